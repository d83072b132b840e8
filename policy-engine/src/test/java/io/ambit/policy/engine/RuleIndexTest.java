package io.ambit.policy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The inverted rule index narrows candidates only: every decision equals a plain scan's. */
class RuleIndexTest {
    private static final String[] NS = {"a", "b", "c", "d"};
    private static final String[] SA = {"x", "y", "z"};

    @AfterEach
    void restore() {
        RuleIndex.enabled = true;
    }

    @Test
    void decisionsWithTheIndexEqualAPlainScan() {
        var random = new Random(42);
        var yaml = new StringBuilder();
        for (int p = 0; p < 300; p++) {
            boolean deny = random.nextInt(10) == 0;
            String ns = p % 3 == 0 ? "istio-system" : "target";
            yaml.append("---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p")
                    .append(p)
                    .append(", namespace: ")
                    .append(ns)
                    .append("}\nspec:\n  action: ")
                    .append(deny ? "DENY" : "ALLOW")
                    .append("\n  rules:\n");
            for (int r = 0; r < 1 + random.nextInt(4); r++) {
                yaml.append("  - from:\n");
                for (int s = 0; s < 1 + random.nextInt(2); s++) {
                    yaml.append("    - source: {")
                            .append(
                                    deny
                                            ? "principals: [\"cluster.local/ns/d/sa/" + SA[random.nextInt(SA.length)]
                                                    + "\"]"
                                            : source(random))
                            .append("}\n");
                }
                if (random.nextBoolean()) {
                    yaml.append("    to: [{operation: {ports: [\"")
                            .append(8080 + random.nextInt(2))
                            .append("\"]}}]\n");
                }
            }
        }
        var set = new PolicyLoader(false).text(yaml.toString(), "random.yaml").result();
        assertThat(set.errors()).isEmpty();

        var requests = new ArrayList<AccessRequest>();
        for (int i = 0; i < 400; i++) {
            var b = AccessRequest.builder()
                    .destination("target", Map.of("app", "api"))
                    .port(8080 + random.nextInt(2))
                    .sourceIp("10.0." + random.nextInt(2) + "." + random.nextInt(4));
            if (random.nextInt(5) > 0) {
                b.peer("cluster.local/ns/" + NS[random.nextInt(NS.length)] + "/sa/" + SA[random.nextInt(SA.length)]);
            }
            requests.add(b.build());
        }

        var indexed = PolicyCompiler.compile(set.policies(), MeshConfig.DEFAULT);
        RuleIndex.enabled = false;
        var scanned = PolicyCompiler.compile(set.policies(), MeshConfig.DEFAULT);

        List<String> differences = new ArrayList<>();
        int denied = 0;
        for (var r : requests) {
            var a = indexed.decideL4(r);
            var b = scanned.decideL4(r);
            var attached = indexed.decideL4(indexed.attach(r.destination()), r);
            if (!attached.equals(a)) {
                differences.add(r + "\n  attached: " + attached + "\n  direct: " + a);
            }
            if (!a.equals(b)) {
                differences.add(r + "\n  indexed: " + a + "\n  scanned: " + b);
            }
            denied += a.allowed() ? 0 : 1;
        }
        assertThat(differences).isEmpty();
        // both outcomes occur, so the comparison means something
        assertThat(denied).isBetween(requests.size() / 10, requests.size() - requests.size() / 10);
    }

    private static String source(Random random) {
        String ns = NS[random.nextInt(NS.length)];
        String sa = SA[random.nextInt(SA.length)];
        return switch (random.nextInt(6)) {
            case 0 -> "principals: [\"cluster.local/ns/" + ns + "/sa/" + sa + "\"]";
            case 1 -> "namespaces: [\"" + ns + "\"]";
            case 2 -> "serviceAccounts: [\"" + ns + "/" + sa + "\"]";
            case 3 -> "principals: [\"cluster.local/ns/" + ns + "/*\"]";
            case 4 -> "ipBlocks: [\"10.0." + random.nextInt(2) + ".0/24\"]";
            default -> "notNamespaces: [\"" + ns + "\"]";
        };
    }
}
