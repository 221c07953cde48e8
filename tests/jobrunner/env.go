package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// configError is a container configuration the kubelet could not turn into a container: a
// missing Secret, ConfigMap or key that is not optional, or a field reference it does not know.
// The kubelet reports it as the waiting reason CreateContainerConfigError and tries again on
// its next sync, so the runner does too.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// isConfigError says whether err is one the pod waits on rather than one of the runner itself.
func isConfigError(err error) bool {
	var ce *configError
	return errors.As(err, &ce)
}

// sources reads the objects environment variables refer to. The kubelet reads them with its
// node's permissions; the runner reads them with the admin configuration it was started with.
type sources interface {
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
}

// envVar is one resolved variable.
type envVar struct{ name, value string }

// environ is an environment in definition order, where defining a name again replaces its value
// in place. The zero value is empty and ready to use.
type environ struct {
	vars  []envVar
	index map[string]int
}

func (e *environ) set(name, value string) {
	if i, ok := e.index[name]; ok {
		e.vars[i].value = value
		return
	}
	if e.index == nil {
		e.index = map[string]int{}
	}
	e.index[name] = len(e.vars)
	e.vars = append(e.vars, envVar{name, value})
}

func (e *environ) lookup(name string) (string, bool) {
	if i, ok := e.index[name]; ok {
		return e.vars[i].value, true
	}
	return "", false
}

// list is the environment as exec wants it, and the names alone.
func (e *environ) list() (env, names []string) {
	for _, v := range e.vars {
		env = append(env, v.name+"="+v.value)
		names = append(names, v.name)
	}
	return env, names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// containerEnv resolves a container's environment as the kubelet does
// (kubelet_pods.go makeEnvironmentVariables): envFrom sources first, in order, every key with
// the source's prefix (names are not filtered since the relaxed variable-name validation of
// Kubernetes 1.34; the keys of one source are taken in sorted order), then env entries,
// a later definition replacing an earlier one of the same name; $(VAR) in a plain value refers
// to the variables defined before it; optional references to missing objects or keys are
// skipped; anything else missing is a configError. Values are never part of an error.
func containerEnv(ctx context.Context, src sources, pod *corev1.Pod, c *corev1.Container) ([]envVar, error) {
	var env environ
	set, lookup := env.set, env.lookup

	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			ref := from.ConfigMapRef
			cm, err := src.ConfigMap(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
					continue
				}
				return nil, sourceError("configMap", pod.Namespace, ref.Name, err)
			}
			for _, k := range sortedKeys(cm.Data) {
				set(from.Prefix+k, cm.Data[k])
			}
		case from.SecretRef != nil:
			ref := from.SecretRef
			s, err := src.Secret(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
					continue
				}
				return nil, sourceError("secret", pod.Namespace, ref.Name, err)
			}
			for _, k := range sortedKeys(s.Data) {
				set(from.Prefix+k, string(s.Data[k]))
			}
		}
	}

	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, lookup))
			continue
		}
		v, ok, err := valueFrom(ctx, src, pod, e)
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, v)
		}
	}
	return env.vars, nil
}

// valueFrom resolves one env entry's valueFrom; ok is false when an optional source is missing
// and the variable is left out.
func valueFrom(ctx context.Context, src sources, pod *corev1.Pod, e corev1.EnvVar) (value string, ok bool, err error) {
	from := e.ValueFrom
	switch {
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := src.Secret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, sourceError("secret", pod.Namespace, ref.Name, err)
		}
		v, found := s.Data[ref.Key]
		if !found {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, configErrorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), true, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := src.ConfigMap(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, sourceError("configMap", pod.Namespace, ref.Name, err)
		}
		v, found := cm.Data[ref.Key]
		if !found {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, configErrorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, true, nil
	case from.FieldRef != nil:
		v, err := podField(pod, from.FieldRef.FieldPath)
		if err != nil {
			return "", false, err
		}
		return v, true, nil
	case from.ResourceFieldRef != nil:
		// The kubelet computes these from the container's resources and the node's capacity;
		// no Job of the operator asks for them, so they are refused rather than guessed.
		return "", false, configErrorf("env %s: resourceFieldRef %s is not supported by the jobrunner", e.Name, from.ResourceFieldRef.Resource)
	case from.FileKeyRef != nil:
		// Reading a key from a file in a volume needs the volume, which kwok never mounts.
		return "", false, configErrorf("env %s: fileKeyRef is not supported by the jobrunner", e.Name)
	}
	return "", false, configErrorf("env %s: empty valueFrom", e.Name)
}

// sourceError turns a failed read of a Secret or ConfigMap into the kubelet's message. A
// NotFound is the pod's problem (a configError, retried); anything else (the API server down)
// is the runner's, and is retried the same way but named as such.
func sourceError(kind, namespace, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return configErrorf("%s %q not found", kind, name)
	}
	return fmt.Errorf("couldn't get %s %s/%s: %w", kind, namespace, name, err)
}

// podField is the downward API for environment variables: the field paths the kubelet accepts
// there (metadata.name, metadata.namespace, metadata.uid, labels and annotations by key,
// spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP).
func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	}
	for prefix, m := range map[string]map[string]string{
		"metadata.labels":      pod.Labels,
		"metadata.annotations": pod.Annotations,
	} {
		if rest, ok := strings.CutPrefix(path, prefix+"['"); ok {
			if key, ok := strings.CutSuffix(rest, "']"); ok {
				return m[key], nil
			}
		}
	}
	return "", configErrorf("fieldRef %s is not supported by the jobrunner", path)
}

func isOptional(p *bool) bool { return p != nil && *p }

// expand replaces $(NAME) references in s with the values lookup knows, as the kubelet does for
// env values, command and args: $$ is a literal $, a reference to an unknown name and an
// unterminated $( are kept as written.
func expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unterminated: keep "$(" and go on after it, as the kubelet does.
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}
