package io.ambit.waypoint.jwt;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the JWT stage reads of one request: where tokens may be, and what Envoy's {@code WWW-Authenticate}
 * realm is built from.
 *
 * @param method    the request method ({@code OPTIONS} preflights with CORS headers skip the stage, as Envoy)
 * @param scheme    {@code http} or {@code https} as the waypoint saw the request (the realm's scheme)
 * @param authority the {@code :authority} / {@code Host} value
 * @param path      the request target as sent, query included (tokens may be in the query)
 * @param headers   header names lower-case, every value in arrival order (the same map an
 *                  {@code AccessRequest} takes); names that are not lower-case are folded
 */
public record JwtRequest(
        String method, String scheme, String authority, String path, Map<String, List<String>> headers) {
    public JwtRequest {
        headers = headers == null ? Map.of() : lowerCaseNames(headers);
    }

    /** The values of one header (name lower-case), or an empty list. */
    List<String> header(String lowerName) {
        var v = headers.get(lowerName);
        return v == null ? List.of() : v;
    }

    private static Map<String, List<String>> lowerCaseNames(Map<String, List<String>> headers) {
        for (String name : headers.keySet()) {
            if (!name.equals(name.toLowerCase(Locale.ROOT))) {
                var out = new LinkedHashMap<String, List<String>>();
                headers.forEach((k, v) -> out.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>())
                        .addAll(v));
                return out;
            }
        }
        return headers;
    }
}
