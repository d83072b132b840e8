package io.ambit.cli.run;

import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.TlsSettings;
import java.util.Map;

/**
 * The TLS compliance policy of {@code ambit run}, {@code ambit ztunnel} and {@code ambit waypoint}: the
 * {@code --compliance-policy} option, else the {@code COMPLIANCE_POLICY} environment variable that the
 * article sets on istiod and that Istio's ztunnel reads too, else the default groups.
 */
public final class ComplianceOption {
    public static final String OPTION = "--compliance-policy";
    public static final String VARIABLE = "COMPLIANCE_POLICY";

    private ComplianceOption() {}

    /**
     * @param flag the option's value, null when not given
     * @throws IllegalArgumentException naming the option or the variable and the expected values
     */
    public static CompliancePolicy resolve(String flag, Map<String, String> env) {
        if (flag != null) {
            return parse(flag, OPTION + " ");
        }
        String value = env.get(VARIABLE);
        // As Istio: an empty variable means no policy, not a bad one.
        if (value == null || value.isBlank()) {
            return CompliancePolicy.DEFAULT;
        }
        return parse(value, VARIABLE + "=");
    }

    /** The HBONE TLS settings for the resolved policy: every listener and client of the process uses them. */
    public static TlsSettings tls(String flag, Map<String, String> env) {
        return TlsSettings.defaults().withCompliancePolicy(resolve(flag, env));
    }

    /** One banner line when the policy narrows the groups, so an operator sees why old peers fail. */
    public static String describe(TlsSettings tls) {
        return tls.compliancePolicy() == CompliancePolicy.PQC
                ? "compliance policy pqc: TLS 1.3 key exchange X25519MLKEM768 only"
                : "";
    }

    private static CompliancePolicy parse(String value, String source) {
        try {
            return CompliancePolicy.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + value + " (expected: default or pqc)");
        }
    }
}
