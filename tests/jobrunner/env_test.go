package jobrunner

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// fakeSources serves Secrets and ConfigMaps from maps, with the API server's NotFound errors.
type fakeSources struct {
	secrets    map[string]map[string]string
	configMaps map[string]map[string]string
}

func (f fakeSources) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	data, ok := f.secrets[name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s, nil
}

func (f fakeSources) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	data, ok := f.configMaps[name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
	}
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}, nil
}

const secretValue = "s3cr3t-value"

var testSources = fakeSources{
	secrets:    map[string]map[string]string{"creds": {"password": secretValue, "user": "root", "dashed-name": "x"}},
	configMaps: map[string]map[string]string{"settings": {"region": "us-west-2", "LEVEL": "debug"}},
}

func secretKey(name, key string, optional bool) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: ptr.To(optional),
	}}
}

func configMapKey(name, key string, optional bool) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: ptr.To(optional),
	}}
}

func field(path string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: "backup-b-x7k", UID: "uid-1",
			Labels:      map[string]string{"app": "backup"},
			Annotations: map[string]string{"note": "hello"},
		},
		Spec: corev1.PodSpec{NodeName: "node-1", ServiceAccountName: "tidb-backup-manager"},
	}
}

func TestContainerEnv(t *testing.T) {
	cases := map[string]struct {
		env     []corev1.EnvVar
		envFrom []corev1.EnvFromSource
		want    []envVar
		// wantErr is a substring of the configError expected; empty means success.
		wantErr string
	}{
		"plain values keep their order": {
			env:  []corev1.EnvVar{{Name: "B", Value: "1"}, {Name: "A", Value: "2"}},
			want: []envVar{{"B", "1"}, {"A", "2"}},
		},
		"secret and ConfigMap keys are resolved": {
			env: []corev1.EnvVar{
				{Name: "PASSWORD", ValueFrom: secretKey("creds", "password", false)},
				{Name: "REGION", ValueFrom: configMapKey("settings", "region", false)},
			},
			want: []envVar{{"PASSWORD", secretValue}, {"REGION", "us-west-2"}},
		},
		"optional references to missing objects and keys leave the variable out": {
			env: []corev1.EnvVar{
				{Name: "A", ValueFrom: secretKey("nothing", "password", true)},
				{Name: "B", ValueFrom: secretKey("creds", "nothing", true)},
				{Name: "C", ValueFrom: configMapKey("nothing", "region", true)},
				{Name: "D", ValueFrom: configMapKey("settings", "nothing", true)},
				{Name: "E", Value: "kept"},
			},
			want: []envVar{{"E", "kept"}},
		},
		"a missing secret is a configuration error": {
			env:     []corev1.EnvVar{{Name: "A", ValueFrom: secretKey("nothing", "password", false)}},
			wantErr: `secret "nothing" not found`,
		},
		"a missing secret key is a configuration error in the kubelet's words": {
			env:     []corev1.EnvVar{{Name: "A", ValueFrom: secretKey("creds", "token", false)}},
			wantErr: "couldn't find key token in Secret ns/creds",
		},
		"a missing ConfigMap key is a configuration error": {
			env:     []corev1.EnvVar{{Name: "A", ValueFrom: configMapKey("settings", "zone", false)}},
			wantErr: "couldn't find key zone in ConfigMap ns/settings",
		},
		"an absent optional flag means required": {
			env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token",
			}}}},
			wantErr: "couldn't find key token",
		},
		"field references give the pod's metadata": {
			env: []corev1.EnvVar{
				{Name: "NAME", ValueFrom: field("metadata.name")},
				{Name: "NS", ValueFrom: field("metadata.namespace")},
				{Name: "UID", ValueFrom: field("metadata.uid")},
				{Name: "NODE", ValueFrom: field("spec.nodeName")},
				{Name: "SA", ValueFrom: field("spec.serviceAccountName")},
				{Name: "APP", ValueFrom: field("metadata.labels['app']")},
				{Name: "NOTE", ValueFrom: field("metadata.annotations['note']")},
			},
			want: []envVar{
				{"NAME", "backup-b-x7k"}, {"NS", "ns"}, {"UID", "uid-1"}, {"NODE", "node-1"},
				{"SA", "tidb-backup-manager"}, {"APP", "backup"}, {"NOTE", "hello"},
			},
		},
		"an unknown field path is a configuration error": {
			env:     []corev1.EnvVar{{Name: "A", ValueFrom: field("status.phase")}},
			wantErr: "fieldRef status.phase",
		},
		"resource references are refused, not guessed": {
			env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"},
			}}},
			wantErr: "resourceFieldRef limits.cpu",
		},
		"$(VAR) refers to variables defined before, $$ escapes, unknown names stay": {
			env: []corev1.EnvVar{
				{Name: "NAME", ValueFrom: field("metadata.name")},
				{Name: "A", Value: "$(NAME)-x $$(NAME) $(LATER) $(NAME"},
				{Name: "LATER", Value: "late"},
			},
			want: []envVar{{"NAME", "backup-b-x7k"}, {"A", "backup-b-x7k-x $(NAME) $(LATER) $(NAME"}, {"LATER", "late"}},
		},
		"envFrom comes first, with its prefix; env replaces it in place": {
			envFrom: []corev1.EnvFromSource{
				{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nothing"}, Optional: ptr.To(true)}},
			},
			env:  []corev1.EnvVar{{Name: "user", Value: "admin"}},
			want: []envVar{{"CM_LEVEL", "debug"}, {"CM_region", "us-west-2"}, {"dashed-name", "x"}, {"password", secretValue}, {"user", "admin"}},
		},
		"a required envFrom source that is missing is a configuration error": {
			envFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nothing"}}}},
			wantErr: `configMap "nothing" not found`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &corev1.Container{Name: "backup", Env: tc.env, EnvFrom: tc.envFrom}
			got, err := containerEnv(context.Background(), testSources, testPod(), c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if !isConfigError(err) {
					t.Errorf("error %v is not a configuration error", err)
				}
				if strings.Contains(err.Error(), secretValue) {
					t.Errorf("error %q holds a secret value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("env = %v, want %v", got, tc.want)
			}
		})
	}
}

// A failing API server is not the pod's configuration: it is retried but named as what it is.
func TestContainerEnvSourceFailureIsNotAConfigError(t *testing.T) {
	err := sourceError("secret", "ns", "creds", apierrors.NewServiceUnavailable("down"))
	if isConfigError(err) {
		t.Errorf("%v is reported as a configuration error", err)
	}
	if !apierrors.IsServiceUnavailable(err) {
		t.Errorf("%v does not wrap the API error", err)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for in, want := range map[string]string{
		"":              "",
		"plain":         "plain",
		"$(A)":          "1",
		"x$(A)y$(A)":    "x1y1",
		"$(EMPTY)!":     "!",
		"$(B)":          "$(B)",
		"$$(A)":         "$(A)",
		"$$":            "$",
		"$":             "$",
		"a$":            "a$",
		"$x":            "$x",
		"$(A":           "$(A",
		"$($(A))":       "$($(A))",
		"--flag=$(A)":   "--flag=1",
		"$$$(A)":        "$1",
		"100$ and $(A)": "100$ and 1",
	} {
		if got := expand(in, lookup); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}
