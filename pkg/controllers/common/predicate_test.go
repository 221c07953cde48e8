package common

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestCreatedOnly(t *testing.T) {
	p, tc := CreatedOnly(), &v1alpha1.TidbCluster{}
	if !p.Create(event.CreateEvent{Object: tc}) {
		t.Error("a creation was dropped")
	}
	if p.Update(event.UpdateEvent{ObjectOld: tc, ObjectNew: tc}) || p.Delete(event.DeleteEvent{Object: tc}) || p.Generic(event.GenericEvent{Object: tc}) {
		t.Error("an update, deletion or generic event passed")
	}
}
