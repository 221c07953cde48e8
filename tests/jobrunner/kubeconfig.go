package jobrunner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// tokenLifetime is what the runner asks the TokenRequest API for: the kubelet's default for
// projected service-account tokens. The token is renewed at 80% of its actual lifetime, as the
// kubelet renews projected tokens.
const tokenLifetime = time.Hour

// server is what a pod's kubeconfig needs of the API server: where it is and how to trust it.
type server struct {
	host       string
	caData     []byte
	insecure   bool
	serverName string
}

func serverOf(cfg *rest.Config) (server, error) {
	s := server{
		host:       cfg.Host,
		caData:     cfg.CAData,
		insecure:   cfg.Insecure,
		serverName: cfg.ServerName,
	}
	if len(s.caData) == 0 && cfg.CAFile != "" {
		ca, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return s, fmt.Errorf("read the API server's CA: %w", err)
		}
		s.caData = ca
	}
	if s.host == "" {
		return s, fmt.Errorf("the rest config names no API server")
	}
	return s, nil
}

// podToken is the credential of one pod's ServiceAccount, kept in a file the pod's kubeconfig
// names with tokenFile: client-go rereads such a file, so a renewed token reaches a running
// process as a rotated projected token reaches a container.
type podToken struct {
	kube      kubernetes.Interface
	namespace string
	account   string
	file      string
	expiry    time.Time
}

// refresh asks the API server for a token of the ServiceAccount with the default audience,
// as the kubelet does for a pod's projected token. The token is not bound to the pod object:
// kwok deletes a deleted pod's object at once, while a kubelet keeps it until the container has
// stopped, and a bound token would stop working in the middle of the process's clean-up.
func (t *podToken) refresh(ctx context.Context) error {
	tr, err := t.kube.CoreV1().ServiceAccounts(t.namespace).CreateToken(ctx, t.account, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(tokenLifetime / time.Second))},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("request a token for ServiceAccount %s/%s: %w", t.namespace, t.account, err)
	}
	// Replace the file in one step, so that client-go never reads half a token.
	tmp := t.file + ".new"
	if err := os.WriteFile(tmp, []byte(tr.Status.Token), 0o600); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	if err := os.Rename(tmp, t.file); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	t.expiry = tr.Status.ExpirationTimestamp.Time
	return nil
}

// renewAt is when the token should be replaced: at 80% of its lifetime.
func (t *podToken) renewAt(now time.Time) time.Time {
	return now.Add(time.Duration(float64(t.expiry.Sub(now)) * 0.8))
}

// writeKubeconfig writes a kubeconfig naming the API server and the token file, and nothing
// else: no client certificate, so the process is exactly the ServiceAccount.
func writeKubeconfig(path string, s server, tokenFile string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = &clientcmdapi.Cluster{
		Server:                   s.host,
		CertificateAuthorityData: s.caData,
		InsecureSkipTLSVerify:    s.insecure,
		TLSServerName:            s.serverName,
	}
	cfg.AuthInfos["pod"] = &clientcmdapi.AuthInfo{TokenFile: tokenFile}
	cfg.Contexts["pod"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "pod"}
	cfg.CurrentContext = "pod"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
