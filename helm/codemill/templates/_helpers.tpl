{{/* Names, labels and the pieces every pod shares. */}}

{{- define "codemill.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "codemill.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "codemill.selectorLabels" -}}
app.kubernetes.io/name: {{ include "codemill.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "codemill.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: codemill
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "codemill.selectorLabels" . }}
{{- end }}

{{- define "codemill.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "codemill.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "codemill.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "codemill.secretName" -}}
{{- default (include "codemill.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "codemill.s3SecretName" -}}
{{- default (printf "%s-s3" (include "codemill.fullname" .)) .Values.lake.s3.credentials.existingSecret }}
{{- end }}

{{- define "codemill.s3Credentials" -}}
{{- if or .Values.lake.s3.credentials.existingSecret .Values.lake.s3.credentials.accessKeyId }}true{{ end }}
{{- end }}

{{- define "codemill.strimziCluster" -}}
{{- default (printf "%s-kafka" (include "codemill.fullname" .)) .Values.kafka.strimzi.clusterName }}
{{- end }}

{{- define "codemill.kafkaBootstrap" -}}
{{- if eq .Values.kafka.mode "strimzi" }}
{{- printf "%s-kafka-bootstrap.%s.svc:9092" (include "codemill.strimziCluster" .) .Release.Namespace }}
{{- else if eq .Values.kafka.mode "external" }}
{{- required "kafka.external.bootstrap is required with kafka.mode=external" .Values.kafka.external.bootstrap }}
{{- else }}
{{- fail (printf "kafka.mode must be external or strimzi, not %q" .Values.kafka.mode) }}
{{- end }}
{{- end }}

{{- define "codemill.servingName" -}}
{{- printf "%s-serving" (include "codemill.fullname" .) }}
{{- end }}

{{- define "codemill.trainingName" -}}
{{- printf "%s-train" (include "codemill.fullname" .) }}
{{- end }}

{{/*
The environment of every codemill process: Kafka, the lake on S3, secrets, shared settings.
Role-specific variables (ports, hosts, the Ray address) are added by each template.
*/}}
{{- define "codemill.env" -}}
- name: HOME
  value: /tmp
- name: CODEMILL_KAFKA_BOOTSTRAP
  value: {{ include "codemill.kafkaBootstrap" . | quote }}
- name: CODEMILL_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
- name: CODEMILL_KAFKA_REPLICATION
  value: {{ .Values.kafka.replication | quote }}
{{- if eq .Values.kafka.mode "external" }}
- name: CODEMILL_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.external.securityProtocol | quote }}
{{- if .Values.kafka.external.saslMechanism }}
- name: CODEMILL_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.external.saslMechanism | quote }}
- name: CODEMILL_KAFKA_SASL_USERNAME
  value: {{ .Values.kafka.external.saslUsername | quote }}
- name: CODEMILL_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.external.saslPasswordSecret.name is required with SASL" .Values.kafka.external.saslPasswordSecret.name }}
      key: {{ .Values.kafka.external.saslPasswordSecret.key }}
{{- end }}
{{- end }}
- name: CODEMILL_LAKE_URI
  value: {{ .Values.lake.uri | quote }}
- name: CODEMILL_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "codemill.secretName" . }}
      key: webhook-secret
      optional: true
- name: CODEMILL_API_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "codemill.secretName" . }}
      key: api-keys
      optional: true
- name: CODEMILL_GIT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "codemill.secretName" . }}
      key: git-token
      optional: true
{{- if .Values.training.gpu }}
- name: CODEMILL_TRAINING_USE_GPU
  value: "true"
{{- end }}
{{- range $name, $value := .Values.settings }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{ include "codemill.s3Env" . }}
{{- end }}

{{/* delta-rs reads its S3 settings from these variables (see helm/codemill/README.md). */}}
{{- define "codemill.s3Env" -}}
- name: AWS_REGION
  value: {{ .Values.lake.s3.region | quote }}
{{- with .Values.lake.s3.endpoint }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.lake.s3.allowHttp }}
- name: AWS_ALLOW_HTTP
  value: "true"
{{- end }}
{{- if eq .Values.lake.s3.commitCoordination "conditionalPut" }}
- name: AWS_CONDITIONAL_PUT
  value: etag
{{- else if eq .Values.lake.s3.commitCoordination "unsafeRename" }}
- name: AWS_S3_ALLOW_UNSAFE_RENAME
  value: "true"
{{- else }}
{{- fail (printf "lake.s3.commitCoordination must be conditionalPut or unsafeRename, not %q" .Values.lake.s3.commitCoordination) }}
{{- end }}
{{- if include "codemill.s3Credentials" . }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "codemill.s3SecretName" . }}
      key: {{ .Values.lake.s3.credentials.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "codemill.s3SecretName" . }}
      key: {{ .Values.lake.s3.credentials.secretAccessKeyKey }}
{{- end }}
{{- end }}

{{/* Writable places on a read-only root: /tmp, and CODEMILL_HOME (shared or the pod's own). */}}
{{- define "codemill.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: home
  mountPath: {{ .Values.home.mountPath }}
{{- end }}

{{- define "codemill.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .shared }}
- name: home
{{- if .root.Values.home.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-home" (include "codemill.fullname" .root)) .root.Values.home.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- else }}
- name: home
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "codemill.podSpecCommon" -}}
serviceAccountName: {{ include "codemill.serviceAccountName" . }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
