package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

var (
	secretA = bytes.Repeat([]byte{0xA1}, KeySize)
	secretB = bytes.Repeat([]byte{0xB2}, KeySize)
	b64A    = base64.StdEncoding.EncodeToString(secretA)
	b64B    = base64.StdEncoding.EncodeToString(secretB)
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []Key
		wantErr string
	}{
		{name: "empty", text: "", want: nil},
		{name: "one", text: "k1:" + b64A, want: []Key{{"k1", secretA}}},
		{name: "comma separated, first active", text: "new:" + b64B + ",old:" + b64A, want: []Key{{"new", secretB}, {"old", secretA}}},
		{name: "file with comments and spaces", text: "# rotated 2026-01\n new : " + b64B + " \n\nold:" + b64A + "\n",
			want: []Key{{"new", secretB}, {"old", secretA}}},
		{name: "unpadded base64", text: "k:" + strings.TrimRight(b64A, "="), want: []Key{{"k", secretA}}},
		{name: "trailing comma", text: "k:" + b64A + ",", want: []Key{{"k", secretA}}},
		{name: "no colon", text: b64A, wantErr: `want "id:base64key"`},
		{name: "empty id", text: ":" + b64A, wantErr: "key id"},
		{name: "bad id", text: "a/b:" + b64A, wantErr: "key id"},
		{name: "not base64", text: "k:!!!", wantErr: "not standard base64"},
		{name: "short key", text: "k:" + base64.StdEncoding.EncodeToString(secretA[:16]), wantErr: "16 bytes, want 32"},
		{name: "duplicate id", text: "k:" + b64A + ",k:" + b64B, wantErr: "duplicate key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeys(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), b64A) || strings.Contains(err.Error(), b64B) {
					t.Fatalf("error leaks a key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].ID != tt.want[i].ID || !bytes.Equal(got[i].Secret, tt.want[i].Secret) {
					t.Fatalf("key %d: got %s, want %s", i, got[i].ID, tt.want[i].ID)
				}
			}
		})
	}
}

// FuzzParseKeys: whatever the text, ParseKeys either fails without echoing
// a key or returns keys that make a working codec.
func FuzzParseKeys(f *testing.F) {
	f.Add("k1:" + b64A)
	f.Add("new:" + b64B + ",old:" + b64A)
	f.Add("# c\n a : " + b64A + "\n")
	f.Add("k:" + b64A + ",k:" + b64B)
	f.Add(":::,,,\n#")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := ParseKeys(text)
		if err != nil {
			for _, entry := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' }) {
				id, secret, _ := strings.Cut(entry, ":")
				secret = strings.TrimSpace(secret)
				if len(secret) >= 8 && !strings.Contains(id, secret) && strings.Contains(err.Error(), secret) {
					t.Fatalf("error echoes a key: %v", err)
				}
			}
			return
		}
		if len(keys) == 0 {
			return
		}
		if _, err := New(keys); err != nil {
			t.Fatalf("parsed keys make no codec: %v", err)
		}
	})
}

func TestSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	if err := os.WriteFile(file, []byte("file:"+b64A+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		src       Source
		env       map[string]string
		wantID    string // active key id; "" means encryption off
		wantFrom  string
		wantErr   bool
		wantErrIs error
	}{
		{name: "nothing configured: off", src: Source{}},
		{name: "nothing configured but required", src: Source{Require: true}, wantErr: true, wantErrIs: ErrNoKeys},
		{name: "global variable", env: map[string]string{EnvKeys: "env:" + b64A}, wantID: "env", wantFrom: EnvKeys},
		{name: "file beats global variable", src: Source{File: file}, env: map[string]string{EnvKeys: "env:" + b64A},
			wantID: "file", wantFrom: file},
		{name: "region variable beats all", src: Source{File: file},
			env:    map[string]string{EnvKeys: "env:" + b64A, "REGIONGATE_CODEC_KEYS_EU_WEST": "eu:" + b64B},
			wantID: "eu", wantFrom: "REGIONGATE_CODEC_KEYS_EU_WEST"},
		{name: "another region's variable is ignored", env: map[string]string{"REGIONGATE_CODEC_KEYS_US_EAST": "us:" + b64B}},
		{name: "configured but empty", src: Source{File: empty}, wantErr: true},
		{name: "missing file", src: Source{File: filepath.Join(dir, "nope")}, wantErr: true},
		{name: "bad variable", env: map[string]string{EnvKeys: "k:short"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Getenv = func(k string) string { return tt.env[k] }
			c, from, err := tt.src.Codec("eu-west")
			if tt.wantErr {
				if err == nil || (tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs)) {
					t.Fatalf("got %v, want an error (%v)", err, tt.wantErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantID == "" {
				if c != nil {
					t.Fatalf("want encryption off, got key %s", c.ActiveKeyID())
				}
				return
			}
			if c == nil || c.ActiveKeyID() != tt.wantID || from != tt.wantFrom {
				t.Fatalf("got codec %v from %q, want key %s from %q", c, from, tt.wantID, tt.wantFrom)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west": "REGIONGATE_CODEC_KEYS_EU_WEST", "us-east-2": "REGIONGATE_CODEC_KEYS_US_EAST_2", "apac": "REGIONGATE_CODEC_KEYS_APAC",
	} {
		if got := EnvName(region); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestClientOptionsWithoutCodecChangesNothing(t *testing.T) {
	opts := client.Options{HostPort: "h:1", Namespace: "ns"}
	if got := ClientOptions(opts, nil); got.DataConverter != nil || got.FailureConverter != nil || got.HostPort != "h:1" {
		t.Fatalf("got %+v", got)
	}
	c, _ := New([]Key{{ID: "k", Secret: secretA}})
	if got := ClientOptions(opts, c); got.DataConverter == nil || got.FailureConverter == nil || got.Namespace != "ns" {
		t.Fatal("codec converters not set")
	}
}

func TestGeneratedKeyRoundTrips(t *testing.T) {
	k, err := GenerateKey("gen-1")
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeys(k.Encode())
	if err != nil || len(back) != 1 || back[0].ID != "gen-1" || !bytes.Equal(back[0].Secret, k.Secret) {
		t.Fatalf("got %v, %v", back, err)
	}
	if _, err := GenerateKey("bad id"); err == nil {
		t.Fatal("a bad id must be refused")
	}
}
