package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kwokAssets is what the harness takes from the YAML files hack/testbin.sh copies out of the kwok
// module: the Stage documents (node, pod and volume life cycles) that kwok reads from its
// --config file, and the StorageClass whose claims the volume stages provision. Other documents
// in those files (kustomizations) are ignored.
type kwokAssets struct {
	// stages is a multi-document YAML stream of kwok Stage objects.
	stages []byte
	// stageNames lists the stages in stream order, for messages and tests.
	stageNames []string
	// storageClasses must be created in the cluster for the volume stages to matter.
	storageClasses []storagev1.StorageClass
}

const (
	kwokStageKind       = "Stage"
	kwokAPIGroupVersion = "kwok.x-k8s.io/v1alpha1"
	defaultClassAnnot   = "storageclass.kubernetes.io/is-default-class"
)

// loadKwokAssets reads every *.yaml file in dir, in name order, leaving out the stages named in
// drop. Each of those must be present: a stage renamed by a newer kwok would otherwise be kept
// without notice, and with it the behaviour the caller asked to be rid of.
func loadKwokAssets(dir string, drop ...string) (kwokAssets, error) {
	var assets kwokAssets
	dropped := map[string]bool{}
	for _, name := range drop {
		dropped[name] = false
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return assets, fmt.Errorf("list kwok stages: %w", err)
	}
	sort.Strings(files)
	var stream bytes.Buffer
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return assets, fmt.Errorf("read kwok stages: %w", err)
		}
		docs, err := splitYAML(raw)
		if err != nil {
			return assets, fmt.Errorf("%s: %w", file, err)
		}
		for _, doc := range docs {
			var head struct {
				metav1.TypeMeta `json:",inline"`
				Metadata        metav1.ObjectMeta `json:"metadata"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return assets, fmt.Errorf("%s: %w", file, err)
			}
			isStage := head.APIVersion == kwokAPIGroupVersion && head.Kind == kwokStageKind
			if _, skip := dropped[head.Metadata.Name]; skip && isStage {
				dropped[head.Metadata.Name] = true
				continue
			}
			switch {
			case isStage:
				stream.WriteString("---\n")
				stream.Write(doc)
				if !bytes.HasSuffix(doc, []byte("\n")) {
					stream.WriteByte('\n')
				}
				assets.stageNames = append(assets.stageNames, head.Metadata.Name)
			case head.APIVersion == storagev1.SchemeGroupVersion.String() && head.Kind == "StorageClass":
				var sc storagev1.StorageClass
				if err := yaml.UnmarshalStrict(doc, &sc); err != nil {
					return assets, fmt.Errorf("%s: %w", file, err)
				}
				assets.storageClasses = append(assets.storageClasses, sc)
			}
		}
	}
	for _, name := range drop {
		if !dropped[name] {
			return assets, fmt.Errorf("kwok stage %s, to be left out, is not in %s", name, dir)
		}
	}
	if len(assets.stageNames) == 0 {
		return assets, fmt.Errorf("no kwok Stage objects in %s", dir)
	}
	assets.stages = stream.Bytes()
	return assets, nil
}

// splitYAML returns the non-empty documents of a YAML stream.
func splitYAML(raw []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(stripComments(string(doc))) == "" {
			continue
		}
		docs = append(docs, doc)
	}
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// defaultStorageClass returns the class to install, marked as the cluster default whatever the
// shipped manifest says, so that claims without a class (StatefulSet templates in examples) are
// provisioned too.
func (a kwokAssets) defaultStorageClass() (*storagev1.StorageClass, error) {
	for i := range a.storageClasses {
		if a.storageClasses[i].Name == DefaultStorageClass {
			sc := a.storageClasses[i].DeepCopy()
			if sc.Annotations == nil {
				sc.Annotations = map[string]string{}
			}
			sc.Annotations[defaultClassAnnot] = "true"
			return sc, nil
		}
	}
	return nil, fmt.Errorf("kwok stages ship no StorageClass %q", DefaultStorageClass)
}
