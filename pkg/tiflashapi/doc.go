// Package tiflashapi is the operator's client for a TiFlash pod's proxy status port (20292).
// A rolling upgrade waits until an upgraded TiFlash reports its store status as Running before
// moving to the next pod.
package tiflashapi
