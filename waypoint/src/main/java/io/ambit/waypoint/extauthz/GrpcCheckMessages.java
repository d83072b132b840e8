package io.ambit.waypoint.extauthz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.proto.envoy.config.core.v3.Address;
import io.ambit.proto.envoy.config.core.v3.HeaderValueOption;
import io.ambit.proto.envoy.config.core.v3.SocketAddress;
import io.ambit.proto.envoy.service.auth.v3.AttributeContext;
import io.ambit.proto.envoy.service.auth.v3.CheckRequest;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gRPC provider's messages ({@code envoy.service.auth.v3}), as Envoy fills and reads them: every
 * request header (pseudo-headers included, repeated values joined) in the AttributeContext, and a
 * CheckResponse whose status OK allows.
 */
final class GrpcCheckMessages {
    /** Most header changes taken from one answer; a provider cannot make the waypoint do unbounded work. */
    static final int MAX_OPS = 128;

    private static final int GRPC_OK = 0;

    private GrpcCheckMessages() {}

    static CheckRequest request(ExtensionProvider.ExtAuthzGrpc p, CheckInput in) {
        var http = AttributeContext.HttpRequest.newBuilder()
                .setMethod(nz(in.method()))
                .setPath(nz(in.path()))
                .setHost(nz(in.authority()))
                .setScheme(nz(in.scheme()))
                .setProtocol(nz(in.protocol()))
                .setSize(in.bodySize());
        if (in.requestId() != null) {
            http.setId(in.requestId());
        }
        http.putHeaders(":method", nz(in.method()));
        http.putHeaders(":path", nz(in.path()));
        http.putHeaders(":authority", nz(in.authority()));
        http.putHeaders(":scheme", nz(in.scheme()));
        for (String name : in.headers().keySet()) {
            if (!name.startsWith(":") && !name.equals("host")) {
                String v = in.joined(name);
                if (v != null) {
                    http.putHeaders(name, v);
                }
            }
        }
        var body = p.includeRequestBodyInCheck();
        if (body != null && in.body() != null) {
            byte[] b = in.body().length <= body.maxRequestBytes()
                    ? in.body()
                    : java.util.Arrays.copyOf(in.body(), body.maxRequestBytes());
            if (body.packAsBytes()) {
                http.setRawBody(ByteString.copyFrom(b));
            } else {
                http.setBody(new String(b, StandardCharsets.UTF_8));
            }
            http.putHeaders(
                    HttpCheckMessages.PARTIAL_BODY,
                    Boolean.toString(in.bodyTruncated() || b.length < in.body().length));
        }
        var request = AttributeContext.Request.newBuilder().setHttp(http);
        if (in.time() != null) {
            request.setTime(Timestamp.newBuilder()
                    .setSeconds(in.time().getEpochSecond())
                    .setNanos(in.time().getNano()));
        }
        var attributes = AttributeContext.newBuilder()
                .setSource(peer(in.source(), in.sourcePrincipal()))
                .setDestination(peer(in.destination(), in.destinationPrincipal()))
                .setRequest(request);
        return CheckRequest.newBuilder().setAttributes(attributes).build();
    }

    private static AttributeContext.Peer peer(InetSocketAddress address, String principal) {
        var peer = AttributeContext.Peer.newBuilder();
        if (address != null) {
            peer.setAddress(Address.newBuilder()
                    .setSocketAddress(SocketAddress.newBuilder()
                            .setAddress(
                                    address.getAddress() != null
                                            ? address.getAddress().getHostAddress()
                                            : address.getHostString())
                            .setPortValue(address.getPort())));
        }
        if (principal != null) {
            peer.setPrincipal(principal);
        }
        return peer.build();
    }

    /** OK allows with the ok_response changes; anything else denies (403 unless the answer says otherwise). */
    static ExtAuthzVerdict verdict(ExtensionProvider.ExtAuthzGrpc p, CheckResponse r) {
        String who = "ext_authz provider \"" + p.name() + "\"";
        if (r.getStatus().getCode() == GRPC_OK) {
            var ok = r.getOkResponse();
            var upstream = requestOps(ok.getHeadersList());
            var remove = new ArrayList<String>();
            for (String n : ok.getHeadersToRemoveList()) {
                String w = SafeHeaders.writableName(n);
                if (w != null && remove.size() < MAX_OPS) {
                    remove.add(w);
                }
            }
            var downstream = responseOps(ok.getResponseHeadersToAddList());
            var qset = new ArrayList<Map.Entry<String, String>>();
            for (var q : ok.getQueryParametersToSetList()) {
                if (qset.size() < MAX_OPS && !q.getKey().isEmpty()) {
                    qset.add(Map.entry(q.getKey(), q.getValue()));
                }
            }
            var qremove = new ArrayList<String>(ok.getQueryParametersToRemoveList()
                    .subList(0, Math.min(MAX_OPS, ok.getQueryParametersToRemoveCount())));
            return ExtAuthzVerdict.allow(upstream, remove, downstream, qset, qremove, who + " allowed");
        }
        int status = 403;
        String body = "";
        List<HeaderOp> headers = List.of();
        if (r.hasDeniedResponse()) {
            var d = r.getDeniedResponse();
            if (d.getStatus().getCode() > 0) {
                status = d.getStatus().getCode();
            }
            body = d.getBody();
            headers = requestOps(d.getHeadersList());
        }
        if (status < 200 || status > 599) {
            return ExtAuthzVerdict.error(
                    p.failOpen(), p.statusOnError(), who + " denied with invalid status " + status);
        }
        return ExtAuthzVerdict.deny(
                status,
                body,
                headers,
                who + " denied with gRPC status " + r.getStatus().getCode() + " (" + status + ")");
    }

    /** Envoy's reading of ok_response.headers and denied_response.headers: append when append is true, else set. */
    private static List<HeaderOp> requestOps(List<HeaderValueOption> options) {
        var out = new ArrayList<HeaderOp>();
        for (var o : options) {
            var a = o.hasAppend() && o.getAppend().getValue() ? HeaderOp.Action.APPEND : HeaderOp.Action.SET;
            add(out, o, a);
        }
        return out;
    }

    /** ok_response.response_headers_to_add: the deprecated append wins, else append_action. */
    private static List<HeaderOp> responseOps(List<HeaderValueOption> options) {
        var out = new ArrayList<HeaderOp>();
        for (var o : options) {
            HeaderOp.Action a;
            if (o.hasAppend()) {
                a = o.getAppend().getValue() ? HeaderOp.Action.APPEND : HeaderOp.Action.SET;
            } else {
                a = switch (o.getAppendAction()) {
                    case ADD_IF_ABSENT -> HeaderOp.Action.ADD_IF_ABSENT;
                    case OVERWRITE_IF_EXISTS -> HeaderOp.Action.OVERWRITE_IF_EXISTS;
                    case OVERWRITE_IF_EXISTS_OR_ADD -> HeaderOp.Action.SET;
                    default -> HeaderOp.Action.APPEND;
                };
            }
            add(out, o, a);
        }
        return out;
    }

    private static void add(List<HeaderOp> out, HeaderValueOption o, HeaderOp.Action a) {
        String name = SafeHeaders.writableName(o.getHeader().getKey());
        // Envoy reads raw_value when it is set (servers built on newer go-control-plane send only that): header
        // values are octets, so each byte is one character; the same checks apply to both forms
        var raw = o.getHeader().getRawValue();
        String value = raw.isEmpty() ? o.getHeader().getValue() : raw.toString(StandardCharsets.ISO_8859_1);
        if (name != null && SafeHeaders.safeValue(value) && out.size() < MAX_OPS) {
            out.add(new HeaderOp(name, value, a));
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
