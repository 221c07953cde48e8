package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// writeFiles creates files (with their directories) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// filesUnder lists every path (files and directories) under dir, relative and slash-separated.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

func openLocalAt(t *testing.T, mount, prefix string) Bucket {
	t.Helper()
	b, err := Open(context.Background(), Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: mount, Prefix: prefix}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func listAll(t *testing.T, b Bucket, pageSize int) (keys []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		objs, next, err := b.List(context.Background(), cursor, pageSize)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		if next == "" {
			return keys, pages
		}
		cursor = next
	}
}

func TestLocalListPagesInKeyOrderWithCursors(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{
		"backup/a.txt": "1", "backup/a/b": "22", "backup/a/c/d": "333", "backup/backupmeta": "4444", "backup/z": "",
		"backup-10/other": "x",
	})
	if err := os.MkdirAll(filepath.Join(mount, "backup", "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := openLocalAt(t, mount, "backup")

	want := []string{"a.txt", "a/b", "a/c/d", "backupmeta", "z"} // '.' sorts before '/', as in an object store
	for _, pageSize := range []int{1, 2, 3, 5, 100} {
		keys, pages := listAll(t, b, pageSize)
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("page size %d: keys %v, want %v", pageSize, keys, want)
		}
		if wantPages := (len(want) + pageSize - 1) / pageSize; pages != wantPages && pages != wantPages+1 {
			t.Fatalf("page size %d: %d pages, want %d", pageSize, pages, wantPages)
		}
	}
	objs, _, err := b.List(context.Background(), "a/b", 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Object{{Key: "a/c/d", Size: 3}, {Key: "backupmeta", Size: 4}}; !reflect.DeepEqual(objs, want) {
		t.Fatalf("List after a/b = %+v, want %+v", objs, want)
	}
}

func TestLocalListOfAMissingPrefixIsEmpty(t *testing.T) {
	b := openLocalAt(t, t.TempDir(), "never-written")
	objs, next, err := b.List(context.Background(), "", 10)
	if err != nil || len(objs) != 0 || next != "" {
		t.Fatalf("List = %v, %q, %v; want nothing", objs, next, err)
	}
}

func TestLocalOnAMissingMountPathSaysSo(t *testing.T) {
	b := openLocalAt(t, filepath.Join(t.TempDir(), "not-mounted"), "p")
	if _, _, err := b.List(context.Background(), "", 10); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("List = %v, want ErrBucketNotFound", err)
	}
	if err := b.Put(context.Background(), "k", nil); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("Put = %v, want ErrBucketNotFound (never write into the container's own disk)", err)
	}
}

func TestLocalPutThenGet(t *testing.T) {
	mount := t.TempDir()
	b := openLocalAt(t, mount, "a/backup")
	ctx := context.Background()
	if err := b.Put(ctx, "dir/backupmeta", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "dir/backupmeta", []byte("meta v2")); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "dir/backupmeta")
	if err != nil || string(got) != "meta v2" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if want := []string{"a", "a/backup", "a/backup/dir", "a/backup/dir/backupmeta"}; !reflect.DeepEqual(filesUnder(t, mount), want) {
		t.Fatalf("files %v, want %v (no temporary file left)", filesUnder(t, mount), want)
	}
}

func TestLocalGetOfAMissingObjectIsErrNotFound(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{"backup/x": "1"})
	for _, prefix := range []string{"backup", "no-such-backup"} {
		_, err := openLocalAt(t, mount, prefix).Get(context.Background(), "backupmeta")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("prefix %s: Get = %v, want ErrNotFound", prefix, err)
		}
	}
}

func TestLocalRefusesKeysAndLinksOutsideThePrefix(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{"secret": "s", "backup-10/data": "d", "backup/ok": "o"})
	if err := os.Symlink("../secret", filepath.Join(mount, "backup", "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(mount, "backup-10"), filepath.Join(mount, "backup", "sibling")); err != nil {
		t.Fatal(err)
	}
	b := openLocalAt(t, mount, "backup")
	ctx := context.Background()
	for _, key := range []string{"../secret", "/etc/passwd", "escape", "sibling/data"} {
		if data, err := b.Get(ctx, key); err == nil {
			t.Errorf("Get(%q) = %q, want an error", key, data)
		}
	}
	if err := b.Put(ctx, "../secret", []byte("overwritten")); err == nil {
		t.Error("Put outside the prefix succeeded")
	}
	keys, _ := listAll(t, b, 10)
	if want := []string{"escape", "ok", "sibling"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("List = %v, want %v (links listed, never followed)", keys, want)
	}
	if err := b.Delete(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, []string{"../secret"}); !errors.Is(err, ErrUnsafePrefix) {
		t.Fatalf("Delete outside the prefix = %v, want ErrUnsafePrefix", err)
	}
	if want := []string{"backup", "backup-10", "backup-10/data", "secret"}; !reflect.DeepEqual(filesUnder(t, mount), want) {
		t.Fatalf("files after delete %v, want %v (link targets kept)", filesUnder(t, mount), want)
	}
}

func TestLocalRefusesAPrefixThatIsASymbolicLink(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{"backup-10/data": "d"})
	if err := os.Symlink("backup-10", filepath.Join(mount, "backup-1")); err != nil {
		t.Fatal(err)
	}
	b := openLocalAt(t, mount, "backup-1")
	if _, _, err := b.List(context.Background(), "", 10); !errors.Is(err, ErrUnsafePrefix) {
		t.Fatalf("List = %v, want ErrUnsafePrefix", err)
	}
	if err := b.Delete(context.Background(), []string{"data"}); !errors.Is(err, ErrUnsafePrefix) {
		t.Fatalf("Delete = %v, want ErrUnsafePrefix", err)
	}
	if _, err := os.Stat(filepath.Join(mount, "backup-10", "data")); err != nil {
		t.Fatal(err)
	}
}

func TestLocalDeleteRemovesTheDirectoriesItEmpties(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{"backup/a/b/c": "1", "backup/a/b/d": "2", "backup/a/keep": "3", "backup/top": "4"})
	b := openLocalAt(t, mount, "backup")
	if err := b.Delete(context.Background(), []string{"a/b/c", "a/b/d", "top", "never-there"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"backup", "backup/a", "backup/a/keep"}; !reflect.DeepEqual(filesUnder(t, mount), want) {
		t.Fatalf("files %v, want %v", filesUnder(t, mount), want)
	}
	if err := b.Delete(context.Background(), []string{"a/keep"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"backup"}; !reflect.DeepEqual(filesUnder(t, mount), want) {
		t.Fatalf("files %v, want %v (the prefix itself stays)", filesUnder(t, mount), want)
	}
}

func TestCleanOfBackup1LeavesBackup10Alone(t *testing.T) {
	mount := t.TempDir()
	files := map[string]string{"backup-10/backupmeta": "m", "backup-10/1/a.sst": "s", "backup-1.txt": "t"}
	for i := range 25 {
		files[filepath.ToSlash(filepath.Join("backup-1", string(rune('a'+i%5)), string(rune('a'+i))+".sst"))] = "data"
	}
	files["backup-1/backupmeta"] = "m"
	writeFiles(t, mount, files)

	b := openLocalAt(t, mount, "backup-1")
	stats, err := Clean(context.Background(), b, v1alpha1.CleanOption{PageSize: 7}, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Deleted != 26 || stats.Rounds != 1 {
		t.Fatalf("stats %+v, want 26 deleted in 1 round", stats)
	}
	want := []string{"backup-1", "backup-1.txt", "backup-10", "backup-10/1", "backup-10/1/a.sst", "backup-10/backupmeta"}
	if got := filesUnder(t, mount); !reflect.DeepEqual(got, want) {
		t.Fatalf("files after clean %v, want %v", got, want)
	}
}

func TestCleanRefusesAWholeVolume(t *testing.T) {
	mount := t.TempDir()
	writeFiles(t, mount, map[string]string{"backup-1/x": "1"})
	for _, prefix := range []string{"", "."} {
		_, err := Clean(context.Background(), openLocalAt(t, mount, prefix), v1alpha1.CleanOption{}, logr.Discard())
		if !errors.Is(err, ErrUnsafePrefix) {
			t.Fatalf("prefix %q: Clean = %v, want ErrUnsafePrefix", prefix, err)
		}
	}
	if got := filesUnder(t, mount); len(got) != 2 {
		t.Fatalf("files %v, want the backup untouched", got)
	}
}
