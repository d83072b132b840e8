package io.ambit.waypoint.ingress;

/**
 * The one spelling of a request's host that policies match and the app receives. A fully qualified name may
 * end with a dot ({@code secret.example.com.}) and still name the same host to DNS and to most virtual-host
 * routers (nginx, Envoy's {@code strip_trailing_host_dot}), so a DENY on {@code hosts: [secret.example.com]}
 * that the trailing dot escapes would be a bypass (security case 4). The dot is removed before the policy
 * decides, and the app receives the same value, so the two never disagree. Case is left as sent: host
 * matching is case-insensitive already, and the app gets what the client wrote.
 */
public final class HostNames {
    private HostNames() {}

    /**
     * {@code authority} without the trailing dot of its host ({@code a.b.:8000} becomes {@code a.b:8000}), or
     * the same string when there is none. IP literals and a bare {@code "."} are left alone.
     */
    public static String withoutTrailingDot(String authority) {
        if (authority == null || authority.isEmpty() || authority.charAt(0) == '[') {
            return authority; // null, empty or an IPv6 literal: nothing to strip
        }
        int colon = authority.lastIndexOf(':');
        int hostEnd = colon >= 0 ? colon : authority.length();
        if (hostEnd < 2 || authority.charAt(hostEnd - 1) != '.' || authority.charAt(hostEnd - 2) == '.') {
            return authority; // no trailing dot, only a dot, or "..": not a name to canonicalize
        }
        return authority.substring(0, hostEnd - 1) + authority.substring(hostEnd);
    }
}
