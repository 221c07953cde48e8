// Command jobhelper stands in for tidb-backup-manager in the tests of package tests/jobrunner. The
// runner starts it exactly as it would start the backup-manager for a Job's pod, and the helper
// reports what it was given so that the test can check the runner's side of the contract: the
// container arguments, the environment resolved from the pod spec, and a kubeconfig that acts as
// the pod's ServiceAccount.
//
// It prints one JSON line on stdout (its log file) and then exits with the code --exit names,
// after --sleep. Environment values are reported as SHA-256 digests only, so that the log never
// holds the secret values a test passes through it.
//
//	jobhelper [SUBCOMMAND] [--exit N] [--fail-once FILE] [--sleep D] [--configmap NAME]
//	          [--report-env A,B] [--child] [--ignore-sigterm] [--term-exit N]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Report is the line the helper prints; the runner's test decodes it from the run's log.
type Report struct {
	// Args are the arguments the helper was started with, after the program name.
	Args []string `json:"args"`
	// Subcommand is the leading argument that is no flag, if any.
	Subcommand string `json:"subcommand,omitempty"`
	// User is the name the API server authenticated the kubeconfig as.
	User string `json:"user,omitempty"`
	// ConfigMap is "ok", "forbidden" or "error: ..." for the --configmap read; empty without it.
	ConfigMap string `json:"configMap,omitempty"`
	// Env maps each --report-env name to "sha256:<hex>" of its value, or to "" when unset.
	Env map[string]string `json:"env,omitempty"`
	// ChildPID is the process --child started, for checks that it was killed with the helper.
	ChildPID int `json:"childPid,omitempty"`
	// Error is what went wrong before the checks could run (no kubeconfig, ...).
	Error string `json:"error,omitempty"`
}

// NamespaceEnv is the variable holding the pod's namespace (a fieldRef in the test's Jobs).
const NamespaceEnv = "POD_NAMESPACE"

func main() {
	exit := flag.Int("exit", 0, "exit code")
	failOnce := flag.String("fail-once", "", "exit 1 if this file does not exist yet, creating it (a container that fails on its first run only)")
	sleep := flag.Duration("sleep", 0, "time to wait before exiting")
	configMap := flag.String("configmap", "", "ConfigMap to read in $"+NamespaceEnv)
	reportEnv := flag.String("report-env", "", "comma-separated variables to report digests of")
	child := flag.Bool("child", false, "start a child process that sleeps, in the helper's process group")
	ignoreTerm := flag.Bool("ignore-sigterm", false, "keep running on SIGTERM (only SIGKILL stops it)")
	termExit := flag.Int("term-exit", 143, "exit code after SIGTERM")
	// A leading subcommand, as the backup-manager's Jobs pass one ("backup", "clean"), is
	// reported and otherwise ignored.
	args := os.Args[1:]
	var subcommand string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		subcommand, args = args[0], args[1:]
	}
	if err := flag.CommandLine.Parse(args); err != nil {
		os.Exit(2)
	}

	// Subscribe before anything slow so that an early SIGTERM is seen, not fatal.
	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)

	rep := Report{Args: os.Args[1:], Subcommand: subcommand, Env: map[string]string{}}
	for _, name := range strings.Split(*reportEnv, ",") {
		if name == "" {
			continue
		}
		if v, ok := os.LookupEnv(name); ok {
			sum := sha256.Sum256([]byte(v))
			rep.Env[name] = "sha256:" + hex.EncodeToString(sum[:])
		} else {
			rep.Env[name] = ""
		}
	}
	if *child {
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			rep.Error = fmt.Sprintf("start child: %v", err)
		} else {
			rep.ChildPID = cmd.Process.Pid
		}
	}
	if err := check(&rep, *configMap); err != nil && rep.Error == "" {
		rep.Error = err.Error()
	}
	if *failOnce != "" {
		if _, err := os.Stat(*failOnce); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(*failOnce, nil, 0o644); err != nil && rep.Error == "" {
				rep.Error = err.Error()
			}
			*exit = 1
		}
	}
	line, _ := json.Marshal(rep)
	fmt.Println(string(line))

	timer := time.NewTimer(*sleep)
	for {
		select {
		case <-timer.C:
			os.Exit(*exit)
		case <-terms:
			fmt.Println("SIGTERM received")
			if !*ignoreTerm {
				os.Exit(*termExit)
			}
		}
	}
}

// check authenticates with the kubeconfig from the environment (KUBECONFIG, as the runner sets
// it) and reads the ConfigMap if one is named.
func check(rep *Report, configMap string) error {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	review, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("who am I: %w", err)
	}
	rep.User = review.Status.UserInfo.Username
	if configMap == "" {
		return nil
	}
	ns := os.Getenv(NamespaceEnv)
	if ns == "" {
		return errors.New(NamespaceEnv + " is not set")
	}
	_, err = kube.CoreV1().ConfigMaps(ns).Get(ctx, configMap, metav1.GetOptions{})
	switch {
	case err == nil:
		rep.ConfigMap = "ok"
	case apierrors.IsForbidden(err):
		rep.ConfigMap = "forbidden"
	default:
		rep.ConfigMap = "error: " + err.Error()
	}
	return nil
}
