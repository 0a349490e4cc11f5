{{/* Labels every object carries; the selector labels are the kustomize base's, so the two match. */}}
{{- define "nearby.selectorLabels" -}}
app.kubernetes.io/name: nearby
app.kubernetes.io/component: agent
{{- end }}

{{- define "nearby.labels" -}}
{{ include "nearby.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "nearby.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "nearby.prometheusAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}

{{- define "nearby.cleanupLabels" -}}
app.kubernetes.io/name: nearby
app.kubernetes.io/component: cleanup
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- /*
The cleanup DaemonSet, with `annotations` on its metadata (the hook's). Its pods run where the
agent's run (same tolerations, node selector, priority) and reach the same bpffs; the cgroup tree
is not mounted, since a detach needs only the pinned link.
*/ -}}
{{- define "nearby.cleanupDaemonSet" -}}
{{- $ := .root -}}
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: nearby-cleanup
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "nearby.cleanupLabels" $ | nindent 4 }}
  annotations:
    {{- toYaml .annotations | nindent 4 }}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: nearby
      app.kubernetes.io/component: cleanup
  template:
    metadata:
      labels:
        {{- include "nearby.cleanupLabels" $ | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      {{- with $.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 1
      initContainers:
      - name: cleanup
        image: {{ include "nearby.image" $ }}
        imagePullPolicy: {{ $.Values.image.pullPolicy }}
        args: ["--cleanup"]
        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: NEARBY_BPFFS
          value: /run/nearby/bpffs
        - name: LOG_LEVEL
          value: {{ $.Values.logLevel | quote }}
        resources:
          requests:
            cpu: 10m
            memory: 64Mi
          limits:
            memory: 128Mi
        securityContext:
          privileged: false
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsUser: 0
          runAsNonRoot: false
          capabilities:
            drop: ["ALL"]
            add: ["BPF", "NET_ADMIN"]
          {{- with $.Values.seccompProfile }}
          seccompProfile:
            {{- toYaml . | nindent 12 }}
          {{- end }}
        volumeMounts:
        - name: bpffs
          mountPath: /run/nearby/bpffs
      # Nothing to run once the node is clean: the pod only has to stay Ready to say so.
      containers:
      - name: done
        image: {{ $.Values.uninstall.pauseImage }}
        resources:
          requests:
            cpu: 1m
            memory: 8Mi
          limits:
            memory: 16Mi
        securityContext:
          privileged: false
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsUser: 65535
          runAsNonRoot: true
          capabilities:
            drop: ["ALL"]
          seccompProfile:
            type: RuntimeDefault
      volumes:
      - name: bpffs
        hostPath:
          path: {{ $.Values.hostPaths.bpffs }}
          type: Directory
{{- end }}
