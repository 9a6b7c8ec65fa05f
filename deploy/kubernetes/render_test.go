package kubernetes_test

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// rendered is one kustomization's output, every object decoded strictly
// into its Kubernetes API type.
type rendered struct {
	dir     string
	objects []runtime.Object
}

// strictDecoder decodes YAML into the API types regiongate's manifests may
// use; an unknown kind, an unknown field or a duplicate field is an error.
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme,
		autoscalingv2.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// kustomizations lists every directory that renders: the two bases and
// every overlay, so a new overlay is checked without editing this test.
func kustomizations(t *testing.T) []string {
	t.Helper()
	overlays, err := filepath.Glob("overlays/*/kustomization.yaml")
	if err != nil || len(overlays) == 0 {
		t.Fatalf("no overlays found (%v)", err)
	}
	dirs := []string{"base", "worker"}
	for _, o := range overlays {
		dirs = append(dirs, filepath.Dir(o))
	}
	return dirs
}

var (
	renderOnce sync.Once
	renders    map[string]*rendered
	renderErrs map[string]error
)

// renderAll renders every kustomization once per test binary, offline,
// with kustomize's defaults (what `kubectl apply -k` does).
func renderAll(t *testing.T) map[string]*rendered {
	t.Helper()
	renderOnce.Do(func() {
		renders, renderErrs = map[string]*rendered{}, map[string]error{}
		for _, dir := range kustomizations(t) {
			renders[dir], renderErrs[dir] = render(dir)
		}
	})
	for dir, err := range renderErrs {
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	return renders
}

func render(dir string) (*rendered, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	r := &rendered{dir: dir}
	for _, res := range m.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			return nil, err
		}
		obj, _, err := strictDecoder.Decode(y, nil, nil)
		if err != nil {
			return nil, &decodeError{res.CurId().String(), err}
		}
		r.objects = append(r.objects, obj)
	}
	return r, nil
}

type decodeError struct {
	id  string
	err error
}

func (e *decodeError) Error() string { return "decoding " + e.id + ": " + e.err.Error() }

func renderOf(t *testing.T, dir string) *rendered {
	t.Helper()
	r, ok := renderAll(t)[dir]
	if !ok {
		t.Fatalf("no kustomization %s", dir)
	}
	return r
}

// all returns the objects of type T.
func all[T runtime.Object](r *rendered) []T {
	var out []T
	for _, o := range r.objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// component returns the Deployments whose pods carry the component label.
func component(r *rendered, c string) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range all[*appsv1.Deployment](r) {
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == c {
			out = append(out, d)
		}
	}
	return out
}

func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

func volume(spec corev1.PodSpec, name string) (corev1.Volume, bool) {
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
	if i < 0 {
		return corev1.Volume{}, false
	}
	return spec.Volumes[i], true
}

// selects reports whether a label selector's matchLabels all hold on labels.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// trimHash strips the content hash kustomize appends to generated names.
func trimHash(name string) string {
	if i := strings.LastIndex(name, "-"); i > 0 && len(name)-i == 11 {
		return name[:i]
	}
	return name
}

func TestEveryKustomizationRendersAndDecodesStrictly(t *testing.T) {
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			r := renderOf(t, dir)
			if len(r.objects) == 0 {
				t.Fatal("rendered nothing")
			}
		})
	}
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"misspelt field":  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n",
		"duplicate field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {type: ClusterIP, type: NodePort}\n",
		"unknown kind":    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := strictDecoder.Decode([]byte(doc), nil, nil); err == nil {
				t.Error("decoded without an error")
			}
		})
	}
}
