package manager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

func TestTheLatestWriterWritesTheNewestValueAndNothingAfterStop(t *testing.T) {
	var (
		mu      sync.Mutex
		written []int
		release = make(chan struct{})
	)
	w := startLatest(func(v int) {
		<-release // a slow API server
		mu.Lock()
		written = append(written, v)
		mu.Unlock()
	})
	w.put(1) // being written while 2 and 3 arrive
	time.Sleep(10 * time.Millisecond)
	w.put(2)
	w.put(3)
	close(release)
	w.stop()
	w.put(4) // after stop: dropped, and must not panic
	mu.Lock()
	defer mu.Unlock()
	// 1 was being written when 2 and 3 arrived: 2 was superseded before the writer was free.
	if fmt.Sprint(written) != "[1 3]" {
		t.Fatalf("written %v; want [1 3]: the newest value, and nothing superseded or put after stop", written)
	}
}

func TestTheGCSKeyReachesBRAsAPrivateFileThatIsRemovedAfterwards(t *testing.T) {
	dir := t.TempDir()
	m := &Manager{
		LookupEnv: storage.MapEnv(map[string]string{envGCSKey: `{"type":"service_account"}`}),
		Environ:   func() []string { return []string{"PATH=/bin"} },
		TempDir:   dir,
		Clock:     clock.RealClock{},
	}
	env, remove, err := m.childEnv()
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, envGoogleCredFile+"="); ok {
			path = v
		}
	}
	if path == "" || filepath.Dir(path) != dir {
		t.Fatalf("environment %q has no %s in %s", env, envGoogleCredFile, dir)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); string(data) != `{"type":"service_account"}` {
		t.Errorf("key file holds %q", data)
	}
	for _, kv := range env {
		if strings.Contains(kv, "service_account") && !strings.HasPrefix(kv, envGCSKey) {
			t.Errorf("the key's content is in %q", kv)
		}
	}
	if !containsKV(env, "BR_LOG_TO_TERM=1") {
		t.Error("BR_LOG_TO_TERM=1 is not set for BR")
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("key file still there after the tool ended: %v", err)
	}
}

func TestAGivenCredentialFileIsLeftAlone(t *testing.T) {
	m := &Manager{
		LookupEnv: storage.MapEnv(map[string]string{envGCSKey: "{}", envGoogleCredFile: "/var/run/key.json"}),
		Environ:   func() []string { return nil },
		TempDir:   t.TempDir(),
	}
	env, remove, err := m.childEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	for _, kv := range env {
		if strings.HasPrefix(kv, envGoogleCredFile+"=") {
			t.Errorf("a second %s was added: %q", envGoogleCredFile, kv)
		}
	}
}

func TestTheWritesAfterSIGTERMShareOneDeadline(t *testing.T) {
	m := &Manager{Clock: clock.RealClock{}, stop: &stopDeadline{}}
	live, cancelLive := m.afterStop(context.Background())
	defer cancelLive()
	if d, ok := live.Deadline(); !ok || time.Until(d) > statusWriteTimeout {
		t.Errorf("a live context's write has deadline %v", d)
	}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	first, c1 := m.afterStop(stopped)
	defer c1()
	time.Sleep(5 * time.Millisecond)
	second, c2 := m.afterStop(stopped)
	defer c2()
	d1, _ := first.Deadline()
	d2, _ := second.Deadline()
	if !d1.Equal(d2) || time.Until(d1) > stopBudget {
		t.Errorf("deadlines after SIGTERM %v and %v; want one shared, within %s", d1, d2, stopBudget)
	}
	if first.Err() != nil {
		t.Error("the write context after SIGTERM is already cancelled")
	}
}

func containsKV(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}
