package common

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// CreatedOnly passes creations only. It is for a watch on objects whose appearance is the one
// change that matters to the watcher: the TidbCluster that an Invalid Backup or Restore waits
// for changes its status every resync, and none of those changes can make either valid.
func CreatedOnly() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
