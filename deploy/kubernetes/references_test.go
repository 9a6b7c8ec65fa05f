package kubernetes_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestReferencesResolve: in what is applied, every ConfigMap, Secret and
// ServiceAccount a pod names exists under its rendered (hashed) name, every
// autoscaler's target exists, and every selector selects some pods.
func TestReferencesResolve(t *testing.T) {
	for _, dir := range deployable {
		t.Run(dir, func(t *testing.T) {
			r := renderOf(t, dir)
			has := map[string]bool{}
			for _, o := range r.objects {
				m := o.(metav1.Object)
				has[o.GetObjectKind().GroupVersionKind().Kind+"/"+m.GetName()] = true
			}
			var pods []map[string]string
			for _, d := range all[*appsv1.Deployment](r) {
				pods = append(pods, d.Spec.Template.Labels)
				for _, ref := range podReferences(d.Spec.Template.Spec) {
					if !has[ref] {
						t.Errorf("Deployment %s names %s, which is not rendered", d.Name, ref)
					}
				}
			}
			for _, h := range all[*autoscalingv2.HorizontalPodAutoscaler](r) {
				if ref := h.Spec.ScaleTargetRef; !has[ref.Kind+"/"+ref.Name] {
					t.Errorf("HorizontalPodAutoscaler %s scales %s/%s, which is not rendered", h.Name, ref.Kind, ref.Name)
				}
			}
			selectors := map[string]*metav1.LabelSelector{}
			for _, p := range all[*policyv1.PodDisruptionBudget](r) {
				selectors["PodDisruptionBudget/"+p.Name] = p.Spec.Selector
			}
			for _, np := range all[*networkingv1.NetworkPolicy](r) {
				selectors["NetworkPolicy/"+np.Name] = &np.Spec.PodSelector
			}
			for _, s := range all[*corev1.Service](r) {
				if s.Spec.Type != corev1.ServiceTypeExternalName {
					selectors["Service/"+s.Name] = &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
				}
			}
			for name, sel := range selectors {
				if !selectsAny(sel, pods) {
					t.Errorf("%s selects no pods", name)
				}
			}
		})
	}
}

func selectsAny(sel *metav1.LabelSelector, pods []map[string]string) bool {
	for _, labels := range pods {
		if selects(sel, labels) {
			return true
		}
	}
	return false
}

// podReferences lists the objects a pod spec names, as "Kind/name".
func podReferences(spec corev1.PodSpec) []string {
	refs := []string{"ServiceAccount/" + spec.ServiceAccountName}
	for _, v := range spec.Volumes {
		switch {
		case v.Secret != nil:
			refs = append(refs, "Secret/"+v.Secret.SecretName)
		case v.ConfigMap != nil:
			refs = append(refs, "ConfigMap/"+v.ConfigMap.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				switch {
				case src.Secret != nil:
					refs = append(refs, "Secret/"+src.Secret.Name)
				case src.ConfigMap != nil:
					refs = append(refs, "ConfigMap/"+src.ConfigMap.Name)
				}
			}
		}
	}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		for _, e := range c.Env {
			switch {
			case e.ValueFrom == nil:
			case e.ValueFrom.SecretKeyRef != nil:
				refs = append(refs, "Secret/"+e.ValueFrom.SecretKeyRef.Name)
			case e.ValueFrom.ConfigMapKeyRef != nil:
				refs = append(refs, "ConfigMap/"+e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			switch {
			case e.SecretRef != nil:
				refs = append(refs, "Secret/"+e.SecretRef.Name)
			case e.ConfigMapRef != nil:
				refs = append(refs, "ConfigMap/"+e.ConfigMapRef.Name)
			}
		}
	}
	return refs
}
