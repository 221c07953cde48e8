package cluster

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	stageA = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
`
	stageB = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod`
	kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- pv-bind.yaml
`
	storageClassNotDefault = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-volume
provisioner: kwok.x-k8s.io/volume
volumeBindingMode: Immediate
`
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadKwokAssets(t *testing.T) {
	cases := map[string]struct {
		// files are written into the stage folder.
		files map[string]string
		// wantStages are the stage names expected in the --config stream, in order.
		wantStages []string
		// wantClass says whether the kwok-volume StorageClass is expected.
		wantClass bool
		// wantErr is a substring of the expected error; empty means success.
		wantErr string
	}{
		"stages from every file are collected in file-name order": {
			files:      map[string]string{"b.yaml": stageB, "a.yaml": stageA},
			wantStages: []string{"node-initialize", "pod-ready"},
		},
		"several documents in one file, comments and empty documents are handled": {
			files:      map[string]string{"all.yaml": "# header\n---\n" + stageA + "---\n# nothing here\n---\n" + stageB + "\n"},
			wantStages: []string{"node-initialize", "pod-ready"},
		},
		"kustomizations are skipped and the StorageClass is kept apart": {
			files: map[string]string{
				"kustomization.yaml": kustomization,
				"storage-class.yaml": storageClassNotDefault,
				"pod-ready.yaml":     stageB,
			},
			wantStages: []string{"pod-ready"},
			wantClass:  true,
		},
		"files that are not YAML by name are ignored": {
			files:      map[string]string{"README.md": "# stages", "pod-ready.yaml": stageB},
			wantStages: []string{"pod-ready"},
		},
		"a folder without any stage is an error": {
			files:   map[string]string{"kustomization.yaml": kustomization},
			wantErr: "no kwok Stage objects",
		},
		"a malformed document is an error naming the file": {
			files:   map[string]string{"broken.yaml": "kind: [\n"},
			wantErr: "broken.yaml",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assets, err := loadKwokAssets(writeFiles(t, tc.files))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(assets.stageNames, tc.wantStages) {
				t.Errorf("stages = %v, want %v", assets.stageNames, tc.wantStages)
			}
			// The stream must parse back into exactly those stages, and nothing else.
			docs, err := splitYAML(assets.stages)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				var obj struct {
					Kind     string `json:"kind"`
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
				}
				if err := yaml.Unmarshal(d, &obj); err != nil {
					t.Fatalf("stream document does not parse: %v", err)
				}
				if obj.Kind != kwokStageKind {
					t.Errorf("stream holds a %s", obj.Kind)
				}
				got = append(got, obj.Metadata.Name)
			}
			if !reflect.DeepEqual(got, tc.wantStages) {
				t.Errorf("stream stages = %v, want %v", got, tc.wantStages)
			}
			_, classErr := assets.defaultStorageClass()
			if tc.wantClass != (classErr == nil) {
				t.Errorf("defaultStorageClass error = %v, want class present = %v", classErr, tc.wantClass)
			}
		})
	}
}

func TestDefaultStorageClassIsMarkedDefault(t *testing.T) {
	assets, err := loadKwokAssets(writeFiles(t, map[string]string{
		"storage-class.yaml": storageClassNotDefault,
		"stage.yaml":         stageA,
	}))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := assets.defaultStorageClass()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Annotations[defaultClassAnnot] != "true" {
		t.Errorf("annotations = %v, want %s=true", sc.Annotations, defaultClassAnnot)
	}
	if sc.Provisioner != "kwok.x-k8s.io/volume" {
		t.Errorf("provisioner = %q", sc.Provisioner)
	}
	// The loaded copy must not be changed by marking.
	if assets.storageClasses[0].Annotations[defaultClassAnnot] != "" {
		t.Error("defaultStorageClass modified the loaded class")
	}
}

// The stage stream must stay a valid multi-document stream even when a file lacks a final
// newline, or kwok would read two stages as one.
func TestStageStreamSeparatesDocumentsWithoutTrailingNewline(t *testing.T) {
	assets, err := loadKwokAssets(writeFiles(t, map[string]string{"a.yaml": stageB, "b.yaml": stageB}))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := splitYAML(assets.stages)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Errorf("stream has %d documents, want 2:\n%s", len(docs), assets.stages)
	}
}

// stageComplete is shaped like kwok's pod-complete stage: it matches the Running pods of Jobs
// and writes phase Succeeded.
const stageComplete = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values:
      - 'Job'
  next:
    statusTemplate: |
      phase: Succeeded
`

func TestLoadKwokAssetsLeavesOutDroppedStages(t *testing.T) {
	files := map[string]string{"a.yaml": stageA, "b.yaml": stageB, "pod-complete.yaml": stageComplete}
	assets, err := loadKwokAssets(writeFiles(t, files), Options{LocalJobs: true}.droppedKwokStages()...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"node-initialize", "pod-ready"}; !reflect.DeepEqual(assets.stageNames, want) {
		t.Errorf("stages = %v, want %v", assets.stageNames, want)
	}
	if strings.Contains(string(assets.stages), "pod-complete") {
		t.Errorf("the stream still holds the dropped stage:\n%s", assets.stages)
	}

	// Without LocalJobs the stage stays.
	assets, err = loadKwokAssets(writeFiles(t, files), Options{}.droppedKwokStages()...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"node-initialize", "pod-ready", "pod-complete"}; !reflect.DeepEqual(assets.stageNames, want) {
		t.Errorf("stages = %v, want %v", assets.stageNames, want)
	}
}

// A stage to drop that is not there (kwok renamed it) must not be ignored: its behaviour would
// silently come back.
func TestLoadKwokAssetsRefusesToDropAMissingStage(t *testing.T) {
	_, err := loadKwokAssets(writeFiles(t, map[string]string{"a.yaml": stageA}), "pod-complete")
	if err == nil || !strings.Contains(err.Error(), "pod-complete") {
		t.Fatalf("error = %v, want one naming pod-complete", err)
	}
}

// The stages hack/testbin.sh ships, as a LocalJobs cluster loads them: no stage may be left
// that ends a pod (writes phase Succeeded or Failed), while the full set has one.
func TestLocalJobsLeavesNoStageThatFinishesPods(t *testing.T) {
	dir := filepath.Join(Shared(t).binDir, kwokStagesDir)
	finishing := func(opts Options) []string {
		t.Helper()
		assets, err := loadKwokAssets(dir, opts.droppedKwokStages()...)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := splitYAML(assets.stages)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, doc := range docs {
			var stage struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec struct {
					Next struct {
						StatusTemplate string `json:"statusTemplate"`
					} `json:"next"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &stage); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(stage.Spec.Next.StatusTemplate, "\n") {
				switch strings.TrimSpace(line) {
				case "phase: Succeeded", "phase: Failed":
					names = append(names, stage.Metadata.Name)
				}
			}
		}
		return names
	}
	if got := finishing(Options{}); len(got) == 0 {
		t.Fatalf("no stage in %s finishes pods; the check below would prove nothing", dir)
	}
	if got := finishing(Options{LocalJobs: true}); len(got) != 0 {
		t.Errorf("with LocalJobs, stages %v still finish pods", got)
	}
}
