package tasks

import (
	"testing"
	"time"
)

func pods(spec ...string) []UpgradePod {
	// Each pod is a word: "old", "new" (upgraded and ready), "new-unready", "gone", "deleting".
	out := make([]UpgradePod, len(spec))
	for i, s := range spec {
		p := UpgradePod{Name: "c-" + string(rune('0'+i)), Exists: true, Ready: true, ReadyFor: time.Hour}
		switch s {
		case "new":
			p.Upgraded = true
		case "new-unready":
			p.Upgraded, p.Ready, p.ReadyFor = true, false, 0
		case "new-fresh":
			p.Upgraded, p.ReadyFor = true, 5*time.Second
		case "gone":
			p.Exists = false
		case "deleting":
			p.Terminating = true
		}
		out[i] = p
	}
	return out
}

func TestDecideUpgrade(t *testing.T) {
	allHealthy := func(int32) (bool, string) { return true, "" }
	cases := []struct {
		name      string
		in        UpgradeInput
		unhealthy map[int32]bool
		want      UpgradeAction
		wantOrd   int32
	}{
		{"starts at the highest ordinal", UpgradeInput{Replicas: 3, Partition: 3, Pods: pods("old", "old", "old")}, nil, UpgradeNext, 2},
		{"next one once the one above is healthy", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "new")}, nil, UpgradeNext, 1},
		{"waits while the upgraded pod is not ready", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "new-unready")}, nil, UpgradeWait, 2},
		{"waits for min ready seconds", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "new-fresh"), MinReady: 30 * time.Second}, nil, UpgradeWait, 2},
		{"ready long enough", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "new-fresh"), MinReady: 5 * time.Second}, nil, UpgradeNext, 1},
		{"waits while the upgraded pod is unhealthy", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "new")}, map[int32]bool{2: true}, UpgradeWait, 2},
		{"waits for a missing pod", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "gone")}, nil, UpgradeWait, 2},
		{"waits for a terminating pod", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("old", "old", "deleting")}, nil, UpgradeWait, 2},
		{"waits for the StatefulSet controller below the partition", UpgradeInput{Replicas: 3, Partition: 1, Pods: pods("old", "old", "new")}, nil, UpgradeWait, 1},
		{"an old pod above an upgraded one is upgraded first", UpgradeInput{Replicas: 3, Partition: 3, Pods: pods("new", "new", "old")}, nil, UpgradeNext, 2},
		{"never two at once: unhealthy upgraded pod below blocks", UpgradeInput{Replicas: 3, Partition: 0, Pods: pods("new", "new", "new")}, map[int32]bool{1: true}, UpgradeWait, 1},
		{"done", UpgradeInput{Replicas: 3, Partition: 0, Pods: pods("new", "new", "new")}, nil, UpgradeDone, 0},
		{"no pods is done", UpgradeInput{Replicas: 0}, nil, UpgradeDone, 0},
		{"a not-ready pod below holds the next restart", UpgradeInput{Replicas: 3, Partition: 3, Pods: pods("old", "new-unready", "old")}, nil, UpgradeWait, 1},
		{"a missing pod below holds the next restart", UpgradeInput{Replicas: 3, Partition: 3, Pods: pods("gone", "old", "old")}, nil, UpgradeWait, 0},
		{"a terminating pod below holds the next restart", UpgradeInput{Replicas: 3, Partition: 2, Pods: pods("deleting", "old", "new")}, nil, UpgradeWait, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			asked := []int32{}
			healthy := func(ord int32) (bool, string) {
				asked = append(asked, ord)
				if c.unhealthy[ord] {
					return false, "unhealthy"
				}
				return allHealthy(ord)
			}
			d := DecideUpgrade(c.in, healthy)
			if d.Action != c.want || (d.Action != UpgradeDone && d.Ordinal != c.wantOrd) {
				t.Fatalf("got %+v, want action %d ordinal %d", d, c.want, c.wantOrd)
			}
			if d.Message == "" {
				t.Fatal("no message")
			}
			for _, ord := range asked {
				if !c.in.Pods[ord].Upgraded {
					t.Fatalf("asked health of pod %d, which is not upgraded", ord)
				}
			}
		})
	}
}

func TestUpgradeGate(t *testing.T) {
	cases := []struct {
		comp string
		busy map[string]bool
		ok   bool
		wait string
	}{
		{"pd", map[string]bool{"tikv": true, "tidb": true}, true, ""},
		{"tikv", map[string]bool{"pd": true}, false, "pd"},
		{"tikv", map[string]bool{"tidb": true}, true, ""},
		{"tidb", map[string]bool{"tikv": true}, false, "tikv"},
		{"tidb", map[string]bool{"pd": true, "tikv": true}, false, "pd"},
		{"tidb", map[string]bool{"tidb": true}, true, ""},
	}
	for _, c := range cases {
		ok, wait := UpgradeGate(c.comp, c.busy)
		if ok != c.ok || wait != c.wait {
			t.Errorf("%s with %v: got %v %q", c.comp, c.busy, ok, wait)
		}
	}
}

func TestPDUpgradeTransferTarget(t *testing.T) {
	m := func(healthy ...bool) map[int32]PDMemberRef {
		out := map[int32]PDMemberRef{}
		for i, h := range healthy {
			out[int32(i)] = PDMemberRef{Name: "pd-" + string(rune('0'+i)), Healthy: h}
		}
		return out
	}
	peers := []PDMemberRef{{Name: "peer-b", Healthy: true}, {Name: "peer-a", Healthy: true}, {Name: "peer-0", Healthy: false}}
	cases := []struct {
		name    string
		ordinal int32
		members map[int32]PDMemberRef
		peers   []PDMemberRef
		want    string
	}{
		{"highest healthy above (already upgraded)", 1, m(true, true, true, true), nil, "pd-3"},
		{"skips an unhealthy one above", 1, m(true, true, true, false), nil, "pd-2"},
		{"else lowest healthy below", 2, m(true, true, true), nil, "pd-0"},
		{"lowest healthy below skips unhealthy", 2, m(false, true, true), nil, "pd-1"},
		{"else a healthy peer, by name", 0, m(true, false), peers, "peer-a"},
		{"nobody", 0, m(true, false), nil, ""},
	}
	for _, c := range cases {
		if got := PDUpgradeTransferTarget(c.ordinal, c.members, c.peers); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDecideEvictLeaders(t *testing.T) {
	timeout := 10 * time.Minute
	cases := []struct {
		name string
		in   EvictLeadersInput
		want EvictLeadersAction
	}{
		{"begins", EvictLeadersInput{LeaderCount: -1, Timeout: timeout}, EvictLeadersBegin},
		{"begins even with no leaders (records the start)", EvictLeadersInput{LeaderCount: 0, Timeout: timeout}, EvictLeadersBegin},
		{"waits for leaders to leave", EvictLeadersInput{LeaderCount: 7, Evicting: true, EvictingFor: time.Minute, Timeout: timeout}, EvictLeadersWait},
		{"waits when the count cannot be read", EvictLeadersInput{LeaderCount: -1, Evicting: true, EvictingFor: time.Minute, Timeout: timeout}, EvictLeadersWait},
		{"done at zero leaders", EvictLeadersInput{LeaderCount: 0, Evicting: true, EvictingFor: time.Minute, Timeout: timeout}, EvictLeadersDone},
		{"done at the timeout", EvictLeadersInput{LeaderCount: 7, Evicting: true, EvictingFor: timeout, Timeout: timeout}, EvictLeadersDone},
		{"done at the timeout even unreadable", EvictLeadersInput{LeaderCount: -1, Evicting: true, EvictingFor: timeout + time.Second, Timeout: timeout}, EvictLeadersDone},
	}
	for _, c := range cases {
		if got := DecideEvictLeaders(c.in); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestLeadersBack(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	cases := []struct {
		name string
		in   LeadersBackInput
		want bool
	}{
		{"nothing recorded", LeadersBackInput{Now: 0}, true},
		{"small store does not wait", LeadersBackInput{Before: n(199), Now: 0}, true},
		{"busy store waits", LeadersBackInput{Before: n(300), Now: 150, Timeout: time.Minute}, false},
		{"two thirds back", LeadersBackInput{Before: n(300), Now: 200, Timeout: time.Minute}, true},
		{"timeout", LeadersBackInput{Before: n(300), Now: 10, Since: time.Minute, Timeout: time.Minute}, true},
	}
	for _, c := range cases {
		if got := LeadersBack(c.in); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}
