package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPrefixWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		flush  bool
		want   string
	}{
		{name: "a whole line gets the prefix", writes: []string{"hello\n"}, want: "op | hello\n"},
		{name: "a line split over writes is prefixed once", writes: []string{"hel", "lo\nwor", "ld\n"}, want: "op | hello\nop | world\n"},
		{name: "a partial line waits for its end", writes: []string{"no newline"}, want: ""},
		{name: "flush ends a partial line", writes: []string{"no newline"}, flush: true, want: "op | no newline\n"},
		{name: "empty lines are kept", writes: []string{"\n\n"}, want: "op | \nop | \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &prefixWriter{prefix: "op | ", w: &out}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if tt.flush {
				w.flush()
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name string
		base []string
		set  map[string]string
		want []string
	}{
		{name: "a set variable replaces the inherited one", base: []string{"A=1", "KUBECONFIG=/home/k"}, set: map[string]string{"KUBECONFIG": "/run/k"}, want: []string{"A=1", "KUBECONFIG=/run/k"}},
		{name: "a new variable is added", base: []string{"A=1"}, set: map[string]string{"B": "2"}, want: []string{"A=1", "B=2"}},
		{name: "an empty value blanks an inherited proxy", base: []string{"HTTPS_PROXY=http://corp:3128"}, set: map[string]string{"HTTPS_PROXY": ""}, want: []string{"HTTPS_PROXY="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeEnv(tt.base, tt.set)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadManifests(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string // kind/name in order
		wantErr string
	}{
		{
			name: "documents of several files are read in file name order",
			files: map[string]string{
				"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n",
				"a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: first\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: also-first\n",
			},
			want: []string{"Namespace/first", "ConfigMap/also-first", "ConfigMap/second"},
		},
		{
			name:  "empty documents and comments are skipped",
			files: map[string]string{"a.yaml": "# only a comment\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n"},
			want:  []string{"ConfigMap/x"},
		},
		{
			name:    "an object without kind is an error naming the file",
			files:   map[string]string{"bad.yaml": "apiVersion: v1\nmetadata:\n  name: x\n"},
			wantErr: "bad.yaml",
		},
		{
			name:    "no matching file is an error",
			files:   map[string]string{"a.txt": "not yaml"},
			wantErr: "no manifests match",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			objs, err := readManifests(filepath.Join(dir, "*.yaml"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExampleManifestsParse(t *testing.T) {
	objs, err := readManifests(filepath.Join("..", "..", "..", "examples", "basic", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, o := range objs {
		if o.GetKind() == "TidbCluster" && o.GetName() == "basic" {
			found = true
		}
	}
	if !found {
		t.Errorf("examples/basic has no TidbCluster named basic, which the banner and README point at")
	}
}

func TestLayoutRel(t *testing.T) {
	l := newLayout("/repo", "/repo/.run")
	tests := []struct{ name, path, want string }{
		{name: "a path inside the root is shown relative", path: "/repo/.run/kubeconfig", want: ".run/kubeconfig"},
		{name: "a path outside the root stays absolute", path: "/tmp/run/kubeconfig", want: "/tmp/run/kubeconfig"},
		{name: "a sibling whose name starts with dots stays absolute", path: "/repo2/x", want: "/repo2/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.rel(tt.path); got != tt.want {
				t.Errorf("rel(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
