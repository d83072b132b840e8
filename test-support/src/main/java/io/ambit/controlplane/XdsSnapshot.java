package io.ambit.controlplane;

import com.google.protobuf.Any;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.convert.AuthorizationConverter;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.proto.workload.Address;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the local control plane serves at one moment, per type URL, by resource name, in istiod's
 * naming: workloads by uid, services by {@code namespace/hostname} (aliases: {@code network/ip} of each
 * address, for on-demand lookups), Authorizations by {@code namespace/name}.
 *
 * <p>A resource's version is a hash of its bytes, so it changes exactly when the resource does — across
 * file reloads and server restarts alike. A reconnecting client that reports the versions it holds is
 * therefore sent nothing it already has.
 *
 * @param resources type URL → name → entry
 */
public record XdsSnapshot(Map<String, Map<String, Entry>> resources) {
    /** One resource as sent. */
    public record Entry(String name, String version, Any resource, List<String> aliases) {}

    public static final XdsSnapshot EMPTY =
            new XdsSnapshot(Map.of(AddressConverter.TYPE_URL, Map.of(), AuthorizationConverter.TYPE_URL, Map.of()));

    public XdsSnapshot {
        var copy = new LinkedHashMap<String, Map<String, Entry>>();
        resources.forEach((k, v) -> copy.put(k, java.util.Collections.unmodifiableMap(new LinkedHashMap<>(v))));
        resources = java.util.Collections.unmodifiableMap(copy);
    }

    /** What istiod would send for this mesh. */
    public static XdsSnapshot of(MeshState state) {
        var policies = IstiodPolicies.convert(
                state.policies().policies(), state.workloads(), state.mesh().rootNamespace());
        var addresses = new LinkedHashMap<String, Entry>();
        for (var s : state.services()) {
            var any = Any.pack(
                    Address.newBuilder().setService(WireForm.service(s)).build());
            var aliases = new ArrayList<String>();
            s.vips().forEach(v -> aliases.add(v.toString()));
            String name = s.key().toString();
            addresses.put(name, new Entry(name, version(any), any, aliases));
        }
        for (var w : state.workloads()) {
            var any = Any.pack(Address.newBuilder()
                    .setWorkload(WireForm.workload(w, policies.selectedBy().get(w.uid())))
                    .build());
            var aliases = new ArrayList<String>();
            w.ips().forEach(ip -> aliases.add(ip.toString()));
            addresses.put(w.uid(), new Entry(w.uid(), version(any), any, aliases));
        }
        var authz = new LinkedHashMap<String, Entry>();
        policies.authorizations().forEach((name, a) -> {
            var any = Any.pack(a);
            authz.put(name, new Entry(name, version(any), any, List.of()));
        });
        return new XdsSnapshot(Map.of(AddressConverter.TYPE_URL, addresses, AuthorizationConverter.TYPE_URL, authz));
    }

    /** The resources of one type (empty for a type this server does not serve). */
    public Map<String, Entry> of(String typeUrl) {
        return resources.getOrDefault(typeUrl, Map.of());
    }

    private static String version(Any any) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(any.toByteArray());
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
