// Package kubernetes holds regiongate's Kubernetes manifests (kustomize:
// base/, worker/, overlays/) and the test that renders them offline. It is
// its own module so the kustomize and Kubernetes API dependencies never
// enter the product's go.mod. See docs/deploy.md.
package kubernetes
