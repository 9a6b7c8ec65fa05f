package kubernetes_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The deployable kustomizations: references must resolve within them.
var deployable = []string{"base", "overlays/prod"}

func TestEveryPodRunsLockedDown(t *testing.T) {
	for dir, r := range renderAll(t) {
		for _, d := range all[*appsv1.Deployment](r) {
			spec := d.Spec.Template.Spec
			psc := spec.SecurityContext
			if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s %s: want seccomp RuntimeDefault", dir, d.Name)
			}
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Errorf("%s %s: mounts a service account token it does not need", dir, d.Name)
			}
			for _, c := range append(spec.InitContainers, spec.Containers...) {
				sc := c.SecurityContext
				switch {
				case sc == nil:
					t.Errorf("%s %s/%s: no securityContext", dir, d.Name, c.Name)
					continue
				case !isTrue(sc.RunAsNonRoot) && (psc == nil || !isTrue(psc.RunAsNonRoot)):
					t.Errorf("%s %s/%s: runAsNonRoot is not set", dir, d.Name, c.Name)
				case uid(sc, psc) == 0:
					t.Errorf("%s %s/%s: runs as uid 0", dir, d.Name, c.Name)
				case !isTrue(sc.ReadOnlyRootFilesystem):
					t.Errorf("%s %s/%s: root filesystem is writable", dir, d.Name, c.Name)
				case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
					t.Errorf("%s %s/%s: allows privilege escalation", dir, d.Name, c.Name)
				case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
					t.Errorf("%s %s/%s: capabilities must drop ALL and add none", dir, d.Name, c.Name)
				case c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero():
					t.Errorf("%s %s/%s: want a CPU request and a memory limit", dir, d.Name, c.Name)
				}
			}
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// uid is the user a container runs as; -1 when the image decides.
func uid(sc *corev1.SecurityContext, psc *corev1.PodSecurityContext) int64 {
	switch {
	case sc.RunAsUser != nil:
		return *sc.RunAsUser
	case psc != nil && psc.RunAsUser != nil:
		return *psc.RunAsUser
	}
	return -1
}

func TestGateway(t *testing.T) {
	for _, dir := range deployable {
		t.Run(dir, func(t *testing.T) {
			r := renderOf(t, dir)
			gws := component(r, "gateway")
			if len(gws) != 1 {
				t.Fatalf("want one gateway Deployment, got %d", len(gws))
			}
			gw := gws[0]
			if gw.Spec.Replicas == nil || *gw.Spec.Replicas < 2 {
				t.Errorf("gateway replicas: want at least 2, got %d", ptrValue(gw.Spec.Replicas))
			}
			c := gw.Spec.Template.Spec.Containers[0]
			checkProbe(t, "liveness", c.LivenessProbe, "/healthz")
			checkProbe(t, "readiness", c.ReadinessProbe, "/readyz")
			if !slices.Contains(c.Args, "--client-addr=0.0.0.0:8080") || !slices.Contains(c.Args, "--admin-addr=0.0.0.0:8081") {
				t.Errorf("gateway args %q: want both listeners on every interface", c.Args)
			}
			for _, region := range configRegions(t, r) {
				if _, ok := env(c, codecEnvName(region)); !ok {
					t.Errorf("gateway has no %s for region %s", codecEnvName(region), region)
				}
			}
			checkGatewayTemporalTLS(t, gw.Spec.Template.Spec, c, configRegions(t, r))
			labels := gw.Spec.Template.Labels
			if !slices.ContainsFunc(all[*policyv1.PodDisruptionBudget](r), func(p *policyv1.PodDisruptionBudget) bool {
				return selects(p.Spec.Selector, labels)
			}) {
				t.Error("no PodDisruptionBudget covers the gateway")
			}
			if !slices.ContainsFunc(all[*autoscalingv2.HorizontalPodAutoscaler](r), func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
				return h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == gw.Name &&
					h.Spec.MinReplicas != nil && *h.Spec.MinReplicas >= 2 && len(h.Spec.Metrics) > 0
			}) {
				t.Error("no HorizontalPodAutoscaler scales the gateway from at least 2 replicas")
			}
			checkGatewayService(t, r, labels)
			checkGatewayNetworkPolicy(t, r, labels)
		})
	}
}

func checkProbe(t *testing.T, kind string, p *corev1.Probe, path string) {
	t.Helper()
	switch {
	case p == nil || p.HTTPGet == nil:
		t.Errorf("gateway %s probe: want GET %s, got none or not HTTP", kind, path)
	case p.HTTPGet.Path != path:
		t.Errorf("gateway %s probe: want GET %s, got GET %s", kind, path, p.HTTPGet.Path)
	}
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// codecEnvName is codec.EnvName: the variable with one region's keys.
func codecEnvName(region string) string {
	return "REGIONGATE_CODEC_KEYS_" + strings.ToUpper(strings.ReplaceAll(region, "-", "_"))
}

func checkGatewayService(t *testing.T, r *rendered, labels map[string]string) {
	t.Helper()
	for _, s := range all[*corev1.Service](r) {
		if !selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, labels) {
			continue
		}
		var ports []int32
		for _, p := range s.Spec.Ports {
			ports = append(ports, p.Port)
		}
		if slices.Equal(ports, []int32{8080, 8081}) {
			return
		}
		t.Errorf("Service %s ports %v, want client 8080 and admin 8081", s.Name, ports)
	}
	t.Error("no Service selects the gateway pods")
}

func checkGatewayNetworkPolicy(t *testing.T, r *rendered, labels map[string]string) {
	t.Helper()
	for _, np := range all[*networkingv1.NetworkPolicy](r) {
		if !selects(&np.Spec.PodSelector, labels) {
			continue
		}
		var ports []int32
		for _, rule := range np.Spec.Ingress {
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy %s: an ingress rule opens every port", np.Name)
			}
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.IntVal)
			}
		}
		if !slices.Equal(ports, []int32{8080, 8081}) {
			t.Errorf("NetworkPolicy %s: ingress ports %v, want 8080 and 8081 only", np.Name, ports)
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("NetworkPolicy %s does not restrict egress", np.Name)
		}
		return
	}
	t.Error("no NetworkPolicy selects the gateway pods")
}

func TestWorkerOverlaysSetTheirRegion(t *testing.T) {
	prod := renderOf(t, "overlays/prod")
	regions := configRegions(t, prod)
	found := 0
	for dir, r := range renderAll(t) {
		region, ok := strings.CutPrefix(dir, "overlays/worker-")
		if !ok {
			continue
		}
		found++
		t.Run(region, func(t *testing.T) {
			if !slices.Contains(regions, region) {
				t.Errorf("region %s is not in the config (%v)", region, regions)
			}
			ws := component(r, "worker")
			if len(ws) != 1 || len(all[*appsv1.Deployment](r)) != 1 {
				t.Fatalf("want one worker Deployment and nothing else deployed, got %d", len(all[*appsv1.Deployment](r)))
			}
			checkWorker(t, ws[0], region)
		})
	}
	if found != len(regions) {
		t.Errorf("%d worker overlays for %d regions in the config", found, len(regions))
	}
	workers := component(prod, "worker")
	for _, region := range regions {
		if !slices.ContainsFunc(workers, func(d *appsv1.Deployment) bool { return d.Labels["regiongate.io/region"] == region }) {
			t.Errorf("prod has no worker for %s", region)
		}
	}
}

func checkWorker(t *testing.T, d *appsv1.Deployment, region string) {
	t.Helper()
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	if !slices.Equal(c.Args, []string{"worker"}) {
		t.Errorf("args %q, want [worker] (the rest from variables)", c.Args)
	}
	want := map[string]string{"REGIONGATE_REGION": region, "TEMPORAL_ADDRESS": "temporal-" + region + ":7233"}
	for name, value := range want {
		if e, _ := env(c, name); e.Value != value {
			t.Errorf("%s=%q, want %q", name, e.Value, value)
		}
	}
	for vol, secret := range map[string]string{"codec-keys": "regiongate-codec-keys-" + region, "temporal-tls": "regiongate-temporal-tls-" + region} {
		if v, ok := volume(spec, vol); !ok || v.Secret == nil || v.Secret.SecretName != secret {
			t.Errorf("volume %s: want Secret %s", vol, secret)
		}
	}
	// The region config names one path for the gateway and the workers.
	if v, _ := volume(spec, "temporal-tls"); v.Secret == nil || !temporalTLSUnder(v.Secret.Items, region) {
		t.Errorf("volume temporal-tls: want tls.crt, tls.key and ca.crt under %s/", region)
	}
	if d.Spec.Selector.MatchLabels["regiongate.io/region"] != region || d.Spec.Template.Labels["regiongate.io/region"] != region {
		t.Error("selector and pods must carry the region label, or the regions' Deployments would share pods")
	}
	if !strings.HasSuffix(d.Name, "-"+region) {
		t.Errorf("name %s does not end in -%s", d.Name, region)
	}
}

// temporalTLSUnder reports whether items put a region's Temporal TLS
// files under <region>/, where the config's tls blocks name them.
func temporalTLSUnder(items []corev1.KeyToPath, region string) bool {
	for _, key := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if !slices.Contains(items, corev1.KeyToPath{Key: key, Path: region + "/" + key}) {
			return false
		}
	}
	return true
}

// checkGatewayTemporalTLS: every region's Temporal TLS Secret is mounted
// on the gateway under /etc/regiongate/temporal-tls/<region>/, the paths
// its workers see.
func checkGatewayTemporalTLS(t *testing.T, spec corev1.PodSpec, c corev1.Container, regions []string) {
	t.Helper()
	v, ok := volume(spec, "temporal-tls")
	if !ok || v.Projected == nil {
		t.Error("gateway: no projected temporal-tls volume")
		return
	}
	for _, region := range regions {
		if !slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
			// A generated Secret's name ends in a hash of its content.
			name := "regiongate-temporal-tls-" + region
			return s.Secret != nil && (s.Secret.Name == name || strings.HasPrefix(s.Secret.Name, name+"-")) && temporalTLSUnder(s.Secret.Items, region)
		}) {
			t.Errorf("gateway: temporal-tls holds no %s/ from regiongate-temporal-tls-%s", region, region)
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == "temporal-tls" && m.MountPath == "/etc/regiongate/temporal-tls" && m.SubPath == ""
	}) {
		t.Error("gateway: temporal-tls not mounted whole at /etc/regiongate/temporal-tls")
	}
}

// configRegions reads the region names from the rendered region config.
func configRegions(t *testing.T, r *rendered) []string {
	t.Helper()
	var cfg struct {
		Regions []struct{ Name string } `json:"regions"`
	}
	if err := yaml.Unmarshal([]byte(regionConfig(t, r)), &cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rc := range cfg.Regions {
		names = append(names, rc.Name)
	}
	if len(names) == 0 {
		t.Fatal("the region config lists no regions")
	}
	return names
}

func regionConfig(t *testing.T, r *rendered) string {
	t.Helper()
	for _, cm := range all[*corev1.ConfigMap](r) {
		if trimHash(cm.Name) == "regiongate-config" {
			return cm.Data["config.yaml"]
		}
	}
	t.Fatalf("%s: no regiongate-config ConfigMap", r.dir)
	return ""
}

func TestSecretsHoldOnlyPlaceholders(t *testing.T) {
	for dir, r := range renderAll(t) {
		for _, s := range all[*corev1.Secret](r) {
			values := map[string]string{}
			for k, v := range s.Data {
				values[k] = string(v)
			}
			for k, v := range s.StringData {
				values[k] = v
			}
			for key, v := range values {
				if !placeholder(v) {
					t.Errorf("%s: Secret %s key %s holds something besides comments and REPLACE-ME", dir, s.Name, key)
				}
			}
		}
	}
}

// placeholder reports whether every line that is not blank or a comment
// is REPLACE-ME, and there is at least one.
func placeholder(v string) bool {
	n := 0
	for line := range strings.Lines(v) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line != "REPLACE-ME" {
			return false
		}
		n++
	}
	return n > 0
}
