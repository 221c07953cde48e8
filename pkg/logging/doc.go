// Package logging gives the three binaries one logging stack: logr backed by zap (through
// controller-runtime's zap helper), controlled by the klog-style flags v1.6 accepted (-v and the
// rest of klog's set), with klog itself redirected into the same logger so that client-go's
// messages (leader election, reflectors) come out in the same format.
package logging
