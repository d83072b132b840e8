package io.ambit.policy.engine;

/**
 * The peer's identity as authorization sees it: the SPIFFE id of a verified certificate without
 * {@code spiffe://}, split once into its parts. An identity that is not of the form
 * {@code <td>/ns/<ns>/sa/<sa>} keeps its principal but has no namespace or service account.
 *
 * @param namespacedServiceAccount {@code ns/sa}, the form serviceAccounts match, or null; kept so that
 *     decisions never build it
 */
public record PeerIdentity(
        String principal,
        String trustDomain,
        String namespace,
        String serviceAccount,
        String namespacedServiceAccount) {

    /** Parses {@code td/ns/<ns>/sa/<sa>} (a leading {@code spiffe://} is removed). */
    public static PeerIdentity of(String principal) {
        String p = principal.startsWith("spiffe://") ? principal.substring("spiffe://".length()) : principal;
        String[] parts = p.split("/", -1);
        if (parts.length == 5
                && parts[1].equals("ns")
                && parts[3].equals("sa")
                && !parts[0].isEmpty()
                && !parts[2].isEmpty()
                && !parts[4].isEmpty()) {
            return new PeerIdentity(p, parts[0], parts[2], parts[4], parts[2] + "/" + parts[4]);
        }
        int slash = p.indexOf('/');
        return new PeerIdentity(p, slash > 0 ? p.substring(0, slash) : p, null, null, null);
    }
}
