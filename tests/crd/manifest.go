package crd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Document is one object of a YAML file, with where it came from so that failures can name it.
type Document struct {
	// File is the path relative to the directory that was walked.
	File string
	// Index is the position of the document among the non-empty documents of File.
	Index int
	// Object is the decoded object.
	Object *unstructured.Unstructured
}

// Describe names the document for failure messages: "basic/tidb-cluster.yaml#0 TidbCluster basic".
func (d Document) Describe() string {
	return fmt.Sprintf("%s#%d %s %s", d.File, d.Index, d.Object.GetKind(), d.Object.GetName())
}

// DecodeYAML splits a multi-document YAML stream and decodes every document that is not empty
// (documents holding only comments are skipped, as kubectl does).
func DecodeYAML(r io.Reader) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("splitting YAML documents: %w", err)
		}
		jsonDoc, err := utilyaml.ToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs), err)
		}
		jsonDoc = bytes.TrimSpace(jsonDoc)
		if len(jsonDoc) == 0 || bytes.Equal(jsonDoc, []byte("null")) {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(jsonDoc); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs), err)
		}
		objs = append(objs, obj)
	}
}

// DecodeFile decodes every object in a YAML file.
func DecodeFile(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	objs, err := DecodeYAML(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// WalkManifests decodes every *.yaml and *.yml file below root, in lexical order of path.
func WalkManifests(root string) ([]Document, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	sort.Strings(files)
	var docs []Document
	for _, path := range files {
		objs, err := DecodeFile(path)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return nil, err
		}
		for i, obj := range objs {
			docs = append(docs, Document{File: filepath.ToSlash(rel), Index: i, Object: obj})
		}
	}
	return docs, nil
}

// expectPrefix marks a comment line naming a substring the API server's error must contain.
const expectPrefix = "# expect:"

// Expectations returns the substrings listed on "# expect: <substring>" comment lines, in order.
func Expectations(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, expectPrefix); ok {
			if s := strings.TrimSpace(rest); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
