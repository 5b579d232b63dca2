{{- define "xxgk.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "xxgk.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* selector labels of one component: (list $ "worker") */}}
{{- define "xxgk.selector" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* The pool's base job template: files/base-job-template.json with this release's image, namespace,
     flow-run service account, security contexts and shared settings. */}}
{{- define "xxgk.baseJobTemplate" -}}
{{- $t := .Files.Get "files/base-job-template.json" | fromJson }}
{{- $props := $t.variables.properties }}
{{- $_ := set $props.image "default" (include "xxgk.image" .) }}
{{- $_ := set $props.image_pull_policy "default" .Values.image.pullPolicy }}
{{- $_ := set $props.namespace "default" .Release.Namespace }}
{{- $_ := set $props.service_account_name "default" .Values.flowRuns.serviceAccount.name }}
{{- $container := index $t.job_configuration.job_manifest.spec.template.spec.containers 0 }}
{{- $envFrom := list (dict "configMapRef" (dict "name" .Values.configMapName)) (dict "secretRef" (dict "name" .Values.s3SecretName "optional" true)) }}
{{- $_ := set $container "envFrom" $envFrom }}
{{- $_ := set $t.job_configuration.job_manifest.spec.template.spec "securityContext" .Values.podSecurityContext }}
{{- $securityContext := deepCopy .Values.containerSecurityContext }}
{{- $_ := set $securityContext "readOnlyRootFilesystem" .Values.flowRuns.readOnlyRootFilesystem }}
{{- $_ := set $container "securityContext" $securityContext }}
{{- toPrettyJson $t }}
{{- end }}

{{/* emptyDirs for the writable paths of a read-only root filesystem */}}
{{- define "xxgk.scratchMounts" -}}
- {name: tmp, mountPath: /tmp}
- {name: prefect-home, mountPath: {{ .Values.prefectHome }}}
{{- end }}
{{- define "xxgk.scratchVolumes" -}}
- {name: tmp, emptyDir: {}}
- {name: prefect-home, emptyDir: {}}
{{- end }}
