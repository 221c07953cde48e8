// Package tikvapi is the operator's client for a TiKV pod's status port (20180). The operator
// reads one number there: how many Region leaders the store still holds, which tells a rolling
// upgrade or a scale-in when evicting leaders has finished.
package tikvapi
