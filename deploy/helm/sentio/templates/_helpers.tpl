{{/* Labels shared by every Sentio workload; `component` is added per workload. */}}
{{- define "sentio.labels" -}}
app.kubernetes.io/name: sentio
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sentio.selector" -}}
app.kubernetes.io/name: sentio
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sentio.kafkaBootstrap" -}}
{{- if .Values.kafka.deploy -}}
{{ printf "%s-kafka-bootstrap.%s.svc:9092" .Values.kafka.name .Release.Namespace }}
{{- else -}}
{{ required "kafka.bootstrapServers is required when kafka.deploy is false" .Values.kafka.bootstrapServers }}
{{- end -}}
{{- end -}}

{{- define "sentio.clickhouseUrl" -}}
{{- if .Values.clickhouse.deploy -}}
{{ printf "http://clickhouse-%s.%s.svc:8123" .Values.clickhouse.installation .Release.Namespace }}
{{- else -}}
{{ required "clickhouse.url is required when clickhouse.deploy is false" .Values.clickhouse.url }}
{{- end -}}
{{- end -}}

{{- define "sentio.registryUrl" -}}
{{- if .Values.registry.deploy -}}
{{ printf "http://%s-registry.%s.svc:8080/apis/ccompat/v7" .Release.Name .Release.Namespace }}
{{- else -}}
{{ required "registry.url is required when registry.deploy is false" .Values.registry.url }}
{{- end -}}
{{- end -}}

{{- define "sentio.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "sentio.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
