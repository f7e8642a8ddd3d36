package autoconfig

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"mailsneaker/accounts"
)

// MaxConfigSize bounds an autoconfig file; real ones are a few KiB.
const MaxConfigSize = 1 << 20

// clientConfig is the part of Thunderbird's config-v1.1.xml we use
// (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
type clientConfig struct {
	XMLName   xml.Name `xml:"clientConfig"`
	Providers []struct {
		Domains     []string       `xml:"domain"`
		DisplayName string         `xml:"displayName"`
		Incoming    []serverConfig `xml:"incomingServer"`
	} `xml:"emailProvider"`
}

type serverConfig struct {
	Type       string   `xml:"type,attr"`
	Hostname   string   `xml:"hostname"`
	Port       string   `xml:"port"`
	SocketType string   `xml:"socketType"`
	Username   string   `xml:"username"`
	Auth       []string `xml:"authentication"`
}

// ParseClientConfig reads a Thunderbird autoconfig file (clientConfig
// version 1.1) and returns its IMAP and POP3 servers for email, with the
// %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% placeholders filled in.
// Servers that only allow OAuth2 or have unusable values are left out.
// Files larger than MaxConfigSize are refused.
func ParseClientConfig(data []byte, email string) ([]Candidate, error) {
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("autoconfig file is larger than %d bytes", MaxConfigSize)
	}
	local, domain, err := SplitAddress(email)
	if err != nil {
		return nil, err
	}
	var cfg clientConfig
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("autoconfig file: %w", err)
	}
	fill := strings.NewReplacer("%EMAILADDRESS%", strings.TrimSpace(email), "%EMAILLOCALPART%", local, "%EMAILDOMAIN%", domain)
	var out []Candidate
	for _, p := range cfg.Providers {
		for _, s := range p.Incoming {
			c, ok := s.candidate(fill)
			if ok {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("autoconfig file lists no usable IMAP or POP3 server")
	}
	return out, nil
}

// candidate converts one incomingServer, or reports that it is unusable.
func (s serverConfig) candidate(fill *strings.Replacer) (Candidate, bool) {
	var c Candidate
	switch strings.ToLower(strings.TrimSpace(s.Type)) {
	case "imap":
		c.Protocol = accounts.IMAP
	case "pop3":
		c.Protocol = accounts.POP3
	default:
		return c, false
	}
	switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
	case "SSL", "TLS":
		c.Security = accounts.TLS
	case "STARTTLS":
		c.Security = accounts.StartTLS
	case "PLAIN":
		c.Security = accounts.None
	default:
		return c, false
	}
	if !passwordAuth(s.Auth) {
		return c, false
	}
	c.Host = strings.ToLower(strings.TrimSuffix(fill.Replace(strings.TrimSpace(s.Hostname)), "."))
	if !validHost(c.Host) {
		return c, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(s.Port))
	if err != nil || port < 1 || port > 65535 {
		return c, false
	}
	c.Port = port
	c.Username = strings.TrimSpace(fill.Replace(s.Username))
	if c.Username == "" || strings.ContainsAny(c.Username, "\r\n\x00") {
		return c, false
	}
	return c, true
}

// passwordAuth reports whether a server takes a password login; a server
// with no authentication element is assumed to.
func passwordAuth(methods []string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, m := range methods {
		switch strings.TrimSpace(m) {
		case "password-cleartext", "password-encrypted", "plain", "secure":
			return true
		}
	}
	return false
}

// readLimited reads r up to limit bytes, failing if there is more.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("autoconfig file is larger than %d bytes", limit)
	}
	return data, nil
}
