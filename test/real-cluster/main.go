// realcluster starts real Kubernetes control planes on loopback for certdesk's real-server test tier: per cluster
// an embedded etcd, the real kube-apiserver (x509 client certificates, Node,RBAC, default admission plus
// NodeRestriction, service-account tokens, certificates.k8s.io at v1 with v1beta1 also served) and the real
// kube-controller-manager running only the controllers certdesk meets (CSR signing, approving and cleaning, the PCR
// cleaner, root CA publishing, service accounts and their tokens, namespaces). No kubelet, no scheduler.
//
//	realcluster up --clusters east,west --kubeconfig-out PATH [--state-dir DIR] [--keep]
//
// kube-apiserver, kube-controller-manager and kubectl are the binaries built from k8s.io/kubernetes beside this one
// (scripts/real-apiserver.mjs builds all four). It writes a kubeconfig with the contexts and users `certdesk
// sandbox` writes (`<cluster>`: user admin in system:masters; `<cluster>-viewer`: get/list/watch only), prints one
// line starting "ready" when every cluster answers, and on SIGINT/SIGTERM stops everything it started and removes
// its state directory. Its children die with it (Pdeathsig) if it is killed.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

var clusterName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "up" {
		fmt.Fprintln(os.Stderr, "usage: realcluster up --clusters east,west --kubeconfig-out PATH [--state-dir DIR] [--keep]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	clusters := fs.String("clusters", "east", "comma-separated cluster names")
	kubeconfigOut := fs.String("kubeconfig-out", "", "where to write the kubeconfig (required)")
	stateDir := fs.String("state-dir", "", "parent of the per-run state directory (default: the temp dir)")
	keep := fs.Bool("keep", false, "keep the state directory (logs, etcd data) after stopping")
	_ = fs.Parse(os.Args[2:])
	if *kubeconfigOut == "" {
		fmt.Fprintln(os.Stderr, "realcluster: --kubeconfig-out PATH is required")
		os.Exit(2)
	}
	names := strings.Split(*clusters, ",")
	seen := map[string]bool{}
	for _, n := range names {
		// The names become kubeconfig entries and directory names, as in `certdesk sandbox`.
		if !clusterName.MatchString(n) || seen[n] {
			fmt.Fprintf(os.Stderr, "realcluster: cluster name %q is not valid or repeated; use unique lower-case names of letters, digits and '-'\n", n)
			os.Exit(2)
		}
		seen[n] = true
	}
	if err := run(names, *kubeconfigOut, *stateDir, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "realcluster: "+err.Error())
		os.Exit(1)
	}
}

type cluster struct {
	name     string
	dir      string
	server   string
	ca       *keyPair
	admin    *keyPair
	viewer   *keyPair
	etcd     *embed.Etcd
	procs    []*exec.Cmd
	exited   chan string
	adminTLS *tls.Config
}

func run(names []string, kubeconfigOut, stateDir string, keep bool) error {
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	binDir := filepath.Dir(bin)
	for _, b := range []string{"kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return fmt.Errorf("%s is missing beside %s; build with scripts/real-apiserver.mjs", b, bin)
		}
	}
	root, err := os.MkdirTemp(stateDir, "certdesk-real-")
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)

	var started []*cluster
	stopAll := func() {
		for _, c := range started {
			c.stop()
		}
		if !keep {
			_ = os.RemoveAll(root)
		}
	}
	exited := make(chan string, 16)
	for _, name := range names {
		c := &cluster{name: name, dir: filepath.Join(root, name), exited: exited}
		started = append(started, c)
		errc := make(chan error, 1)
		go func() { errc <- c.start(binDir) }()
		select {
		case err := <-errc:
			if err != nil {
				stopAll()
				return fmt.Errorf("cluster %s: %w (logs in %s unless removed; run with --keep to keep them)", name, err, c.dir)
			}
		case s := <-sigs:
			stopAll()
			return fmt.Errorf("stopped by %s while starting", s)
		}
	}
	if err := writeKubeconfig(kubeconfigOut, started); err != nil {
		stopAll()
		return err
	}
	var servers []string
	for _, c := range started {
		servers = append(servers, c.name+"="+c.server)
	}
	fmt.Printf("ready: %s kubeconfig=%s state=%s\n", strings.Join(servers, " "), kubeconfigOut, root)
	select {
	case <-sigs:
		stopAll()
		return nil
	case what := <-exited:
		stopAll()
		return fmt.Errorf("%s exited on its own", what)
	}
}

func (c *cluster) start(binDir string) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	var err error
	if c.ca, err = newCA("certdesk-real-" + c.name + "-ca"); err != nil {
		return err
	}
	serving, err := c.ca.issue(pkix.Name{CommonName: "kube-apiserver"}, x509.ExtKeyUsageServerAuth,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")})
	if err != nil {
		return err
	}
	if c.admin, err = c.ca.issue(pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}}, x509.ExtKeyUsageClientAuth, nil, nil); err != nil {
		return err
	}
	if c.viewer, err = c.ca.issue(pkix.Name{CommonName: "viewer"}, x509.ExtKeyUsageClientAuth, nil, nil); err != nil {
		return err
	}
	kcm, err := c.ca.issue(pkix.Name{CommonName: "system:kube-controller-manager"}, x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt":      c.ca.certPEM(),
		"ca.key":      c.ca.keyPEM(),
		"serving.crt": serving.certPEM(),
		"serving.key": serving.keyPEM(),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
	}
	saPub, _ := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	files["sa.pub"] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub})
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			return err
		}
	}

	// etcd, embedded, on loopback ports chosen by the kernel.
	clientPort, peerPort, apiPort, err := freePorts3()
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = c.name
	cfg.Dir = filepath.Join(c.dir, "etcd")
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{filepath.Join(c.dir, "etcd.log")}
	cfg.UnsafeNoFsync = true // test data in a temp dir: durability buys nothing here
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", clientPort))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", peerPort))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	if c.etcd, err = embed.StartEtcd(cfg); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-c.etcd.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		return errors.New("etcd was not ready within 60s")
	}

	c.server = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	p := func(name string) string { return filepath.Join(c.dir, name) }
	if err := c.spawn(filepath.Join(binDir, "kube-apiserver"), "kube-apiserver",
		"--etcd-servers="+cu.String(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", apiPort),
		"--cert-dir="+p("apiserver-certs"),
		"--tls-cert-file="+p("serving.crt"),
		"--tls-private-key-file="+p("serving.key"),
		"--client-ca-file="+p("ca.crt"),
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p("sa.pub"),
		"--service-account-signing-key-file="+p("sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
		"--runtime-config=certificates.k8s.io/v1beta1=true",
		"--allow-privileged=true",
		"--profiling=false",
	); err != nil {
		return err
	}
	c.adminTLS = c.tlsFor(c.admin)
	if err := c.waitReady(90 * time.Second); err != nil {
		return err
	}
	if err := c.bootstrap(); err != nil {
		return err
	}

	kcmConfig := p("kube-controller-manager.kubeconfig")
	if err := os.WriteFile(kcmConfig, kubeconfigFor(c.name, c.server, c.ca.certPEM(), "kcm", kcm), 0o600); err != nil {
		return err
	}
	return c.spawn(filepath.Join(binDir, "kube-controller-manager"), "kube-controller-manager",
		"--kubeconfig="+kcmConfig,
		"--authentication-kubeconfig="+kcmConfig,
		"--authorization-kubeconfig="+kcmConfig,
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--cluster-name="+c.name,
		"--controllers=certificatesigningrequest-signing-controller,certificatesigningrequest-approving-controller,"+
			"certificatesigningrequest-cleaner-controller,podcertificaterequest-cleaner-controller,"+
			"root-ca-certificate-publisher-controller,serviceaccount-token-controller,serviceaccount-controller,"+
			"namespace-controller,clusterrole-aggregation-controller",
		"--cluster-signing-cert-file="+p("ca.crt"),
		"--cluster-signing-key-file="+p("ca.key"),
		"--root-ca-file="+p("ca.crt"),
		"--service-account-private-key-file="+p("sa.key"),
		"--profiling=false",
	)
}

// spawn starts a component with its output in <dir>/<name>.log; it dies with this process.
func (c *cluster) spawn(path, name string, args ...string) error {
	log, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	go func() {
		_ = cmd.Wait()
		log.Close()
		select {
		case c.exited <- fmt.Sprintf("%s of cluster %s (see %s)", name, c.name, filepath.Join(c.dir, name+".log")):
		default:
		}
	}()
	return nil
}

func (c *cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		cmd := c.procs[i]
		if cmd.Process == nil || cmd.ProcessState != nil {
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for cmd.ProcessState == nil {
				if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	if c.etcd != nil {
		c.etcd.Close()
	}
}

func (c *cluster) tlsFor(kp *keyPair) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(c.ca.cert)
	return &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key}},
	}
}

func (c *cluster) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.server+path, rd)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: c.adminTLS}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, nil
}

func (c *cluster) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case what := <-c.exited:
			return fmt.Errorf("%s exited while starting", what)
		default:
		}
		code, body, err := c.do("GET", "/readyz", nil)
		if err == nil && code == 200 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("HTTP %d: %s", code, strings.TrimSpace(string(body)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver was not ready within %s (%s)", limit, last)
}

// bootstrap gives the viewer what the sandbox's viewer has: get/list/watch only (the built-in `view` role plus the
// certificate, lease, CRD and operator resources `view` leaves out).
func (c *cluster) bootstrap() error {
	read := []string{"get", "list", "watch"}
	objs := []struct {
		path string
		obj  map[string]any
	}{
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles", map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
			"metadata": map[string]any{"name": "certdesk:viewer"},
			"rules": []map[string]any{
				{"apiGroups": []string{"certificates.k8s.io"}, "resources": []string{"certificatesigningrequests", "certificatesigningrequests/status", "certificatesigningrequests/approval", "podcertificaterequests", "podcertificaterequests/status", "clustertrustbundles"}, "verbs": read},
				{"apiGroups": []string{"coordination.k8s.io", "operator.tigera.io"}, "resources": []string{"*"}, "verbs": read},
				{"apiGroups": []string{"apiextensions.k8s.io"}, "resources": []string{"customresourcedefinitions"}, "verbs": read},
				{"apiGroups": []string{""}, "resources": []string{"nodes"}, "verbs": read},
			},
		}},
		{"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding("certdesk:viewer", "certdesk:viewer")},
		{"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding("certdesk:viewer:view", "view")},
	}
	for _, o := range objs {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body, err := c.do("POST", o.path, o.obj)
			if err == nil && (code == 201 || code == 409) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("creating %s: %v %d %s", o.path, err, code, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func binding(name, role string) map[string]any {
	return map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": name},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
		"subjects": []map[string]any{{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"}},
	}
}

// --- kubeconfig

func kubeconfigFor(cluster, server string, caPEM []byte, user string, kp *keyPair) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[4]s
  user:
    client-certificate-data: %[5]s
    client-key-data: %[6]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[4]s
current-context: %[1]s
`, cluster, server, b64(caPEM), user, b64(kp.certPEM()), b64(kp.keyPEM())))
}

func writeKubeconfig(path string, clusters []*cluster) error {
	type named = map[string]any
	b64 := base64.StdEncoding.EncodeToString
	var cs, us, xs []named
	for _, c := range clusters {
		// The extension tells `certdesk scenario run` this cluster is one certdesk created (it writes to it freely).
		created := []named{{"name": "certdesk.dev/created-by", "extension": named{"by": "npm run real-apiserver"}}}
		cs = append(cs, named{"name": c.name, "cluster": named{"server": c.server, "certificate-authority-data": b64(c.ca.certPEM()), "extensions": created}})
		for _, id := range []struct {
			ctx, user string
			kp        *keyPair
		}{{c.name, c.name + "-admin", c.admin}, {c.name + "-viewer", c.name + "-viewer", c.viewer}} {
			us = append(us, named{"name": id.user, "user": named{"client-certificate-data": b64(id.kp.certPEM()), "client-key-data": b64(id.kp.keyPEM())}})
			xs = append(xs, named{"name": id.ctx, "context": named{"cluster": c.name, "user": id.user}})
		}
	}
	doc, _ := json.MarshalIndent(named{
		"apiVersion": "v1", "kind": "Config", "clusters": cs, "users": us, "contexts": xs,
		"current-context": clusters[0].name, "preferences": named{},
	}, "", "  ")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, doc, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// --- PKI

type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (k *keyPair) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
}

func (k *keyPair) keyPEM() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

func newCA(cn string) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &keyPair{cert, key}, err
}

func (ca *keyPair) issue(subject pkix.Name, usage x509.ExtKeyUsage, dns []string, ips []net.IP) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: dns, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &keyPair{cert, key}, err
}

// freePorts3 asks the kernel for three free loopback ports at once (held together, so they differ).
func freePorts3() (int, int, int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports [3]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, 0, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], ports[2], nil
}
