package codec

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// Codecs maps each Temporal namespace to its codec. The Temporal UI
	// names the namespace in the X-Namespace header; with a single codec
	// the header may be left out.
	Codecs map[string]converter.PayloadCodec
	// Lookup, when set, finds the codec of a namespace that Codecs does not
	// hold, at request time: for namespaces that come and go with config
	// changes. It must be safe for concurrent use.
	Lookup func(namespace string) (converter.PayloadCodec, bool)
	// Authorize says whether a request may use the codec, and who sent it
	// (for OnUse). Nil refuses every request: decoding reveals the data the
	// encryption protects.
	Authorize func(*http.Request) (who string, ok bool)
	// OnUse, when set, hears every authorized encode or decode before it
	// is served: who, the namespace, "encode" or "decode", and how many
	// payloads (an audit trail of who read what). An error refuses the
	// request (503): a use that cannot be recorded is not served.
	OnUse func(r *http.Request, who, namespace, op string, payloads int) error
	// AllowOrigins are the browser origins (the Temporal UI's, e.g.
	// "http://localhost:8233") allowed to call the endpoint; empty means no
	// cross-origin calls.
	AllowOrigins []string
	// MaxBodyBytes limits a request body; 0 means 4 MiB.
	MaxBodyBytes int64
}

const defaultMaxBodyBytes = 4 << 20

// NewHTTPHandler serves the Temporal codec server protocol: POST .../encode
// and POST .../decode with {"payloads":[...]}, as the Temporal UI and CLI
// call it. Mount it under a prefix, e.g. /codec/. Requests must pass
// opts.Authorize; CORS preflights from opts.AllowOrigins need not.
func NewHTTPHandler(opts HTTPOptions) http.Handler {
	h := &codecHandler{opts: opts, byNamespace: map[string]http.Handler{}}
	if h.opts.MaxBodyBytes <= 0 {
		h.opts.MaxBodyBytes = defaultMaxBodyBytes
	}
	for ns, c := range opts.Codecs {
		h.byNamespace[ns] = converter.NewPayloadCodecHTTPHandler(c)
	}
	return h
}

type codecHandler struct {
	opts        HTTPOptions
	byNamespace map[string]http.Handler
}

func (h *codecHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
		http.NotFound(w, r)
		return
	}
	var who string
	ok := false
	if h.opts.Authorize != nil {
		who, ok = h.opts.Authorize(r)
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="regiongate-codec"`)
		http.Error(w, "send Authorization: Bearer <token>", http.StatusUnauthorized)
		return
	}
	namespace := r.Header.Get("X-Namespace")
	codec, status, msg := h.codecFor(namespace)
	if codec == nil {
		http.Error(w, msg, status)
		return
	}
	// Decoded payloads are the plaintext: keep them out of every cache.
	w.Header().Set("Cache-Control", "no-store")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if h.opts.OnUse != nil {
		var req struct {
			Payloads []json.RawMessage `json:"payloads"`
		}
		_ = json.Unmarshal(body, &req) // a malformed body is the SDK handler's to refuse; it decodes nothing
		op := "decode"
		if strings.HasSuffix(r.URL.Path, "/encode") {
			op = "encode"
		}
		if err := h.opts.OnUse(r, who, namespace, op, len(req.Payloads)); err != nil {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "the use of the codec could not be recorded; retry later", http.StatusServiceUnavailable)
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	codec.ServeHTTP(w, r)
}

func (h *codecHandler) codecFor(namespace string) (http.Handler, int, string) {
	if namespace == "" {
		if len(h.byNamespace) == 1 {
			for _, c := range h.byNamespace {
				return c, 0, ""
			}
		}
		return nil, http.StatusBadRequest, "send the namespace in the X-Namespace header"
	}
	if c, ok := h.byNamespace[namespace]; ok {
		return c, 0, ""
	}
	if h.opts.Lookup != nil {
		if c, ok := h.opts.Lookup(namespace); ok {
			return converter.NewPayloadCodecHTTPHandler(c), 0, ""
		}
	}
	return nil, http.StatusNotFound, "no codec for namespace " + namespace
}

// cors sets the CORS headers for an allowed origin and reports whether the
// request may go on: same-origin and non-browser requests carry no Origin.
func (h *codecHandler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !slices.Contains(h.opts.AllowOrigins, origin) {
		return false
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Credentials", "true")
	hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
	hdr.Add("Vary", "Origin")
	return true
}

// BearerAuthorizer returns an Authorize func that accepts a request whose
// "Authorization: Bearer <secret>" passes check, as who.
func BearerAuthorizer(who string, check func(secret string) bool) func(*http.Request) (string, bool) {
	return func(r *http.Request) (string, bool) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return who, ok && secret != "" && check(secret)
	}
}
