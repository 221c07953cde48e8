package operator

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// newCache builds the manager's cache with a RESTMapper that does not fail for pingcap.com kinds
// the API server does not serve.
//
// -selector becomes per-kind cache options, and controller-runtime asks the API server whether
// each such kind is namespaced while the cache is built. A cluster that lacks one of our CRDs
// (TidbClusterAutoScaler was dropped in v1.6.3, so an upgraded cluster may not have it) would
// then stop the operator at start-up although no controller may need that kind. Every kind of
// the group is namespaced, so the mapper can answer that question itself; an informer for a
// kind that is really missing still fails when it lists, as it did in v1.6.
func newCache(gv schema.GroupVersion) cache.NewCacheFunc {
	return func(config *rest.Config, opts cache.Options) (cache.Cache, error) {
		if opts.Mapper == nil {
			m, err := apiutil.NewDynamicRESTMapper(config, opts.HTTPClient)
			if err != nil {
				return nil, fmt.Errorf("creating the REST mapper: %w", err)
			}
			opts.Mapper = m
		}
		opts.Mapper = groupFallbackMapper{RESTMapper: opts.Mapper, gv: gv}
		return cache.New(config, opts)
	}
}

// groupFallbackMapper maps kinds of gv that the server does not know as namespaced resources
// named like our CRDs (lower-case kind plus "s": tidbclusters, backups, ...).
type groupFallbackMapper struct {
	meta.RESTMapper
	gv schema.GroupVersion
}

func (m groupFallbackMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	mapping, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err == nil || gk.Group != m.gv.Group || !meta.IsNoMatchError(err) {
		return mapping, err
	}
	return &meta.RESTMapping{
		Resource:         m.gv.WithResource(strings.ToLower(gk.Kind) + "s"),
		GroupVersionKind: m.gv.WithKind(gk.Kind),
		Scope:            meta.RESTScopeNamespace,
	}, nil
}
