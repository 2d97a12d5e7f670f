// The Go oracle of certdesk's tests: what crypto/x509 (kube-controller-manager, the API server, Calico, Istio) makes
// of DER certificate requests and certificates. Standard library only.
//
// Input on stdin, one item a line: "csr <base64 DER>", "cert <base64 DER>", or "verify <base64 DER>" (certificates
// one after the other: the leaf, any intermediates, the root; Verify for any usage). Output: one JSON object a line,
// in order.
package main

import (
	"bufio"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
)

type verdict struct {
	Parsed     bool     `json:"parsed"`
	ParseError string   `json:"parseError,omitempty"`
	SigError   string   `json:"sigError,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	DNS        []string `json:"dns,omitempty"`
	Emails     []string `json:"emails,omitempty"`
	IPs        []string `json:"ips,omitempty"`
	URIs       []string `json:"uris,omitempty"`
	KeyAlg     string   `json:"keyAlgorithm,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		kind, b64, _ := strings.Cut(in.Text(), " ")
		der, err := base64.StdEncoding.DecodeString(b64)
		v := verdict{}
		switch {
		case err != nil:
			v.ParseError = "bad base64: " + err.Error()
		case kind == "csr":
			csr, err := x509.ParseCertificateRequest(der)
			if err != nil {
				v.ParseError = err.Error()
				break
			}
			v.Parsed = true
			if err := csr.CheckSignature(); err != nil {
				v.SigError = err.Error()
			}
			v.Subject = csr.Subject.String()
			v.DNS, v.Emails, v.KeyAlg = csr.DNSNames, csr.EmailAddresses, csr.PublicKeyAlgorithm.String()
			for _, ip := range csr.IPAddresses {
				v.IPs = append(v.IPs, ip.String())
			}
			for _, u := range csr.URIs {
				v.URIs = append(v.URIs, u.String())
			}
		case kind == "cert":
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				v.ParseError = err.Error()
				break
			}
			v.Parsed = true
			v.Subject = cert.Subject.String()
			v.DNS, v.Emails, v.KeyAlg = cert.DNSNames, cert.EmailAddresses, cert.PublicKeyAlgorithm.String()
			for _, ip := range cert.IPAddresses {
				v.IPs = append(v.IPs, ip.String())
			}
			for _, u := range cert.URIs {
				v.URIs = append(v.URIs, u.String())
			}
		case kind == "verify":
			certs, err := x509.ParseCertificates(der)
			if err != nil || len(certs) < 2 {
				v.ParseError = "want a leaf and a root"
				if err != nil {
					v.ParseError = err.Error()
				}
				break
			}
			v.Parsed = true
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(certs[len(certs)-1])
			for _, c := range certs[1 : len(certs)-1] {
				inter.AddCert(c)
			}
			leaf := certs[0]
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				v.SigError = err.Error()
			}
			v.Subject, v.KeyAlg = leaf.Subject.String(), leaf.PublicKeyAlgorithm.String()
			for _, u := range leaf.URIs {
				v.URIs = append(v.URIs, u.String())
			}
		default:
			v.ParseError = "unknown kind " + kind
		}
		enc.Encode(v)
		out.Flush()
	}
}
