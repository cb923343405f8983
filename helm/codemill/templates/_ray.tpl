{{/*
A Ray pod template (KubeRay adds `ray start` to the first container). Arguments (a dict):
root, component (serving or training), head (bool), resources, gpus (int), nodeSelector,
tolerations, env (extra env entries, a list).
*/}}
{{- define "codemill.rayPod" -}}
{{- $root := .root }}
{{- $ctx := dict "root" $root "component" (printf "%s-ray" .component) -}}
metadata:
  labels:
    {{- include "codemill.labels" $ctx | nindent 4 }}
spec:
  {{- include "codemill.podSpecCommon" $root | nindent 2 }}
  containers:
    - name: {{ if .head }}ray-head{{ else }}ray-worker{{ end }}
      image: {{ include "codemill.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      env:
        {{- include "codemill.env" $root | nindent 8 }}
        - name: CODEMILL_HOME
          value: {{ $root.Values.home.mountPath | quote }}
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- if .head }}
        - {name: gcs-server, containerPort: 6379}
        - {name: dashboard, containerPort: 8265}
        - {name: client, containerPort: 10001}
        {{- end }}
        - {name: metrics, containerPort: 8080}
        {{- if eq .component "serving" }}
        - {name: serve, containerPort: {{ $root.Values.serving.port }}}
        {{- end }}
      resources:
        {{- $resources := deepCopy .resources }}
        {{- if gt (int .gpus) 0 }}
        {{- $limits := default dict $resources.limits }}
        {{- $_ := set $limits "nvidia.com/gpu" (int .gpus) }}
        {{- $_ := set $resources "limits" $limits }}
        {{- end }}
        {{- toYaml $resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.ray.securityContext | nindent 8 }}
      volumeMounts:
        {{- include "codemill.volumeMounts" $root | nindent 8 }}
        - name: shm
          mountPath: /dev/shm
  volumes:
    {{- include "codemill.volumes" (dict "root" $root "shared" true) | nindent 4 }}
    # Ray's object store lives in shared memory.
    - name: shm
      emptyDir: {medium: Memory}
  {{- with .nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The Serve config: the router by its import path (serving/entry.py), on Serve's port. */}}
{{- define "codemill.serveConfig" -}}
{{- $router := dict "name" "codemill" "import_path" "serving.entry:router" "route_prefix" "/" "args" (dict "start_models" true) }}
{{- $http := dict "host" "0.0.0.0" "port" (int .Values.serving.port) }}
{{- toYaml (dict "proxy_location" "EveryNode" "http_options" $http "applications" (list $router)) }}
{{- end }}

{{/* A training cluster's spec (the standing RayCluster, or a RayJob's own). */}}
{{- define "codemill.trainingClusterSpec" -}}
{{- $t := .Values.training }}
{{- $gpus := ternary (int $t.gpusPerWorker) 0 $t.gpu -}}
rayVersion: {{ .Values.ray.version | quote }}
enableInTreeAutoscaling: true
headGroupSpec:
  rayStartParams:
    dashboard-host: 0.0.0.0
    num-cpus: "0"
  template:
    {{- include "codemill.rayPod" (dict "root" . "component" "training" "head" true "resources" $t.head.resources "gpus" 0) | nindent 4 }}
workerGroupSpecs:
  - groupName: {{ ternary "gpu" "cpu" $t.gpu }}
    replicas: {{ $t.workers.replicas }}
    minReplicas: {{ $t.workers.minReplicas }}
    maxReplicas: {{ $t.workers.maxReplicas }}
    rayStartParams: {}
    template:
      {{- include "codemill.rayPod" (dict "root" . "component" "training" "head" false "resources" $t.workers.resources "gpus" $gpus "nodeSelector" $t.workers.nodeSelector "tolerations" $t.workers.tolerations) | nindent 6 }}
{{- end }}
