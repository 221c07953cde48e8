package predicates

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const zoneKey = corev1.LabelTopologyZone

// node builds a node in a zone; the hostname label is its name. zone "" leaves the zone off.
func node(name, zone string) corev1.Node {
	l := map[string]string{corev1.LabelHostname: name}
	if zone != "" {
		l[zoneKey] = zone
	}
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// grid builds zones × hosts nodes named <zone>-<i>, in zones a, b, c, ...
func grid(zones, hosts int) []corev1.Node {
	var out []corev1.Node
	for z := 0; z < zones; z++ {
		zone := string(rune('a' + z))
		for h := 0; h < hosts; h++ {
			out = append(out, node(fmt.Sprintf("%s-%d", zone, h), zone))
		}
	}
	return out
}

// pod builds a pod placed on nodeName ("" for not yet placed).
func pod(name, nodeName string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: nodeName}}
}
