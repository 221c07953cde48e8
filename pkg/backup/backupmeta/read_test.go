package backupmeta

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

var errNotFound = errors.New("object not found")

// store is a test double of a backup prefix.
type store struct {
	mu      sync.Mutex
	objects map[string][]byte
	reads   []string
}

func (s *store) get(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, name)
	b, ok := s.objects[name]
	if !ok {
		return nil, errNotFound
	}
	return b, nil
}

func objects(kv ...any) *store {
	s := &store{objects: map[string][]byte{}}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case *Meta:
			s.objects[kv[i].(string)] = Encode(v)
		case *MetaFile:
			s.objects[kv[i].(string)] = EncodeMetaFile(v)
		case []byte:
			s.objects[kv[i].(string)] = v
		}
	}
	return s
}

func ref(name string) File { return File{Name: name} }

func data(sizes ...uint64) []File {
	var fs []File
	for _, s := range sizes {
		fs = append(fs, File{Name: "x.sst", Size: s})
	}
	return fs
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestRead(t *testing.T) {
	level2 := &MetaFile{DataFiles: data(1000, 2000)}
	level1 := &MetaFile{MetaFiles: []File{{Name: "backupmeta.datafile.000000002", SHA256: sum(EncodeMetaFile(level2))}}, DataFiles: data(300)}
	for _, tc := range []struct {
		name  string
		store *store
		want  Summary
	}{
		{
			"a v1 backupmeta sums its files",
			objects(FileName, &Meta{StartVersion: 1, EndVersion: 9, Version: 1, Files: data(10, 20, 30)}),
			Summary{StartVersion: 1, EndVersion: 9, Version: 1, Size: 60, Files: 3},
		},
		{
			"a log backup's backupmeta gives its start version",
			objects(FileName, &Meta{StartVersion: 456789012345678901}),
			Summary{StartVersion: 456789012345678901},
		},
		{
			"a v2 backupmeta sums the data files of its file index",
			objects(FileName, &Meta{EndVersion: 5, Version: 2, FileIndex: &MetaFile{DataFiles: data(7, 8)}}),
			Summary{EndVersion: 5, Version: 2, Size: 15, Files: 2},
		},
		{
			"a v2 backupmeta follows meta files two levels deep",
			objects(
				FileName, &Meta{Version: 2, FileIndex: &MetaFile{MetaFiles: []File{ref("backupmeta.datafile.000000001")}, DataFiles: data(4)}},
				"backupmeta.datafile.000000001", level1,
				"backupmeta.datafile.000000002", level2,
			),
			Summary{Version: 2, Size: 3304, Files: 4, MetaFiles: 2},
		},
		{
			"several meta files at one level are all counted",
			objects(
				FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m1"), ref("m2")}}},
				"m1", &MetaFile{DataFiles: data(1)},
				"m2", &MetaFile{DataFiles: data(2, 3)},
			),
			Summary{Size: 6, Files: 3, MetaFiles: 2},
		},
		{
			"a v1 and a v2 list in one backupmeta are both counted",
			objects(FileName, &Meta{Files: data(1), FileIndex: &MetaFile{DataFiles: data(2)}}),
			Summary{Size: 3, Files: 2},
		},
		{
			"sizes that would overflow saturate",
			objects(FileName, &Meta{Files: data(math.MaxUint64, 5)}),
			Summary{Size: math.MaxUint64, Files: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(context.Background(), tc.store.get)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.MetaSize = 0
			for _, name := range tc.store.reads {
				tc.want.MetaSize += uint64(len(tc.store.objects[name]))
			}
			if got != tc.want {
				t.Fatalf("Read =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	chainOf := func(n int) *store {
		s := objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m0")}}})
		for i := 0; i < n; i++ {
			s.objects[name(i)] = EncodeMetaFile(&MetaFile{MetaFiles: []File{ref(name(i + 1))}})
		}
		s.objects[name(n)] = EncodeMetaFile(&MetaFile{DataFiles: data(1)})
		return s
	}
	for _, tc := range []struct {
		name    string
		store   *store
		ctx     func() context.Context
		is      error
		message string
	}{
		{"a missing backupmeta keeps the storage's error", objects(), nil, errNotFound, "read backupmeta"},
		{"a corrupt backupmeta is reported as such", objects(FileName, []byte{0x0a, 0x05}), nil, ErrCorrupt, "decode backupmeta"},
		{
			"a missing meta file names it",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m1")}}}), nil,
			errNotFound, `read meta file "m1"`,
		},
		{
			"a corrupt meta file names it",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m1")}}}, "m1", []byte{0x12, 0x7f}), nil,
			ErrCorrupt, `decode meta file "m1"`,
		},
		{
			"a meta file referring to itself is a cycle",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m1")}}}, "m1", &MetaFile{MetaFiles: []File{ref("m1")}}), nil,
			ErrCorrupt, "referenced twice",
		},
		{
			"two meta files referring to each other are a cycle",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("a")}}},
				"a", &MetaFile{MetaFiles: []File{ref("b")}}, "b", &MetaFile{MetaFiles: []File{ref("a")}}), nil,
			ErrCorrupt, "referenced twice",
		},
		{"meta files nested deeper than the bound are refused", chainOf(MaxDepth), nil, ErrCorrupt, "nested deeper than 8"},
		{
			"a meta file name leaving the prefix is refused",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("../other/backupmeta")}}}), nil,
			ErrCorrupt, `".." path segment`,
		},
		{
			"an absolute meta file name is refused",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("/etc/passwd")}}}), nil,
			ErrCorrupt, "not a relative object name",
		},
		{
			"an empty meta file name is refused",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("")}}}), nil,
			ErrCorrupt, "empty name",
		},
		{
			"a meta file that does not match its checksum is refused",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{{Name: "m1", SHA256: make([]byte, 32)}}}}, "m1", &MetaFile{DataFiles: data(1)}), nil,
			ErrCorrupt, "SHA-256",
		},
		{
			"a cancelled context stops before the next read",
			objects(FileName, &Meta{FileIndex: &MetaFile{MetaFiles: []File{ref("m1")}}}, "m1", &MetaFile{}),
			func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx },
			context.Canceled, `read meta file "m1"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err := Read(ctx, tc.store.get)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error = %v, want one wrapping %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not mention %q", err, tc.message)
			}
		})
	}
	t.Run("a chain exactly as deep as the bound is read", func(t *testing.T) {
		s, err := Read(context.Background(), chainOf(MaxDepth-1).get)
		if err != nil {
			t.Fatal(err)
		}
		if s.MetaFiles != MaxDepth || s.Size != 1 {
			t.Fatalf("Summary = %+v", s)
		}
	})
}

func name(i int) string { return "m" + string(rune('0'+i)) }
