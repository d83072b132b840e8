package io.ambit.xds.client;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.ambit.xds.proto.core.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who the client is, as istiod reads it from the xDS {@code Node}: an id of the form
 * {@code <type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local} — istiod takes the proxy type from
 * the first part, so ztunnel is {@code ztunnel~…} — and metadata (ztunnel-reference §4.1). A waypoint or
 * any other proxy uses {@link #of} with its own type and metadata.
 *
 * @param id       the node id
 * @param metadata string, number, boolean, list or map values (a Struct on the wire)
 */
public record NodeInfo(String id, Map<String, Object> metadata) {
    public NodeInfo {
        Objects.requireNonNull(id, "id");
        metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * ztunnel's node: id {@code ztunnel~<ip>~<pod>.<ns>~<ns>.svc.cluster.local} and metadata {@code NAME},
     * {@code NAMESPACE}, {@code INSTANCE_IPS}, {@code NODE_NAME}, {@code CLUSTER_ID}, plus {@code extra}
     * (ztunnel passes its {@code ISTIO_META_*} environment, prefix stripped).
     *
     * @param instanceIp the pod IP; ztunnel uses 1.1.1.1 when it does not know it
     */
    public static NodeInfo ztunnel(
            String instanceIp,
            String podName,
            String podNamespace,
            String nodeName,
            String clusterId,
            Map<String, Object> extra) {
        return of("ztunnel", instanceIp, podName, podNamespace, nodeName, clusterId, extra);
    }

    /** A node of any proxy type (e.g. {@code waypoint} or {@code router}), with the same id layout. */
    public static NodeInfo of(
            String type,
            String instanceIp,
            String podName,
            String podNamespace,
            String nodeName,
            String clusterId,
            Map<String, Object> extra) {
        String ip = instanceIp == null || instanceIp.isEmpty() ? "1.1.1.1" : instanceIp;
        String id = type + "~" + ip + "~" + podName + "." + podNamespace + "~" + podNamespace + ".svc.cluster.local";
        var meta = new LinkedHashMap<String, Object>(extra);
        meta.put("NAME", podName);
        meta.put("NAMESPACE", podNamespace);
        meta.put("INSTANCE_IPS", ip);
        if (nodeName != null && !nodeName.isEmpty()) {
            meta.put("NODE_NAME", nodeName);
        }
        if (clusterId != null && !clusterId.isEmpty()) {
            meta.put("CLUSTER_ID", clusterId);
        }
        return new NodeInfo(id, meta);
    }

    /** The wire form. */
    public Node toProto() {
        return Node.newBuilder()
                .setId(id)
                .setMetadata(struct(metadata))
                .setUserAgentName("ambit")
                .build();
    }

    private static Struct struct(Map<String, ?> map) {
        var s = Struct.newBuilder();
        map.forEach((k, v) -> s.putFields(k, value(v)));
        return s.build();
    }

    private static Value value(Object v) {
        return switch (v) {
            case null -> Value.newBuilder().setNullValueValue(0).build();
            case String s -> Value.newBuilder().setStringValue(s).build();
            case Number n -> Value.newBuilder().setNumberValue(n.doubleValue()).build();
            case Boolean b -> Value.newBuilder().setBoolValue(b).build();
            case Map<?, ?> m -> {
                var s = Struct.newBuilder();
                m.forEach((k, x) -> s.putFields(String.valueOf(k), value(x)));
                yield Value.newBuilder().setStructValue(s).build();
            }
            case List<?> l -> {
                var lv = ListValue.newBuilder();
                l.forEach(x -> lv.addValues(value(x)));
                yield Value.newBuilder().setListValue(lv).build();
            }
            default -> Value.newBuilder().setStringValue(v.toString()).build();
        };
    }
}
