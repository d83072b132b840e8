package io.ambit.policy.load;

import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.path.PathNormalization;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads the mesh settings file: {@code rootNamespace}, {@code trustDomain}, {@code trustDomainAliases},
 * {@code pathNormalization}, {@code extensionProviders} (names, or Istio-style entries with a
 * {@code name}), {@code extendedConditions}, {@code timeZone}. Istio's {@code meshConfig:} wrapper is
 * accepted too, so a user can point at the values they already have.
 */
public final class MeshConfigLoader {
    private static final Set<String> KEYS = Set.of(
            "rootNamespace",
            "trustDomain",
            "trustDomainAliases",
            "pathNormalization",
            "extensionProviders",
            "extendedConditions",
            "timeZone");

    private MeshConfigLoader() {}

    /** Thrown with every problem of a mesh file. */
    public static final class InvalidMeshConfigException extends Exception {
        private final List<LoadError> errors;

        InvalidMeshConfigException(List<LoadError> errors) {
            super(errors.stream()
                    .map(LoadError::toString)
                    .reduce((a, b) -> a + "\n" + b)
                    .orElse("invalid mesh config"));
            this.errors = List.copyOf(errors);
        }

        public List<LoadError> errors() {
            return errors;
        }
    }

    public static MeshConfig load(Path file) throws InvalidMeshConfigException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(file.toString(), 0, null, null, "cannot read file: " + e.getMessage())));
        }
    }

    public static MeshConfig parse(String text, String name) throws InvalidMeshConfigException {
        var p = new Problems(name);
        int deep = YamlDepth.tooDeep(text);
        if (deep > 0) {
            throw new InvalidMeshConfigException(List.of(new LoadError(
                    name,
                    deep,
                    null,
                    null,
                    "invalid YAML: nested more than " + YamlDepth.MAX_FLOW_DEPTH
                            + " levels (expected: mesh settings)")));
        }
        YamlNode root;
        try {
            var node = new Compose(LoadSettings.builder()
                            .setLabel(name)
                            .setAllowDuplicateKeys(false)
                            .build())
                    .composeAllFromReader(new StringReader(text))
                    .iterator();
            root = node.hasNext() ? new YamlNode(node.next(), "", new YamlNode.Budget()) : null;
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(name, line, null, null, "invalid YAML: " + e.getProblem())));
        } catch (YamlEngineException e) {
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(name, 0, null, null, "invalid YAML: " + e.getMessage())));
        } catch (StackOverflowError e) {
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(name, 0, null, null, "invalid YAML: nested too deeply to parse")));
        }
        if (root == null || root.isNull()) {
            return MeshConfig.DEFAULT;
        }
        var duplicates = new ArrayList<LoadError>();
        DuplicateKeys.check(root.raw(), name, duplicates);
        if (!duplicates.isEmpty()) {
            throw new InvalidMeshConfigException(duplicates);
        }
        var top = Fields.map(root, p, null);
        boolean istioWrapper = top.size() == 1 && top.containsKey("meshConfig");
        if (istioWrapper) {
            root = top.get("meshConfig");
        }
        // Inside Istio's meshConfig wrapper the rest of Istio's settings (accessLogFile, defaultConfig...)
        // are not ours to judge; in Ambit's own file an unknown key is a typo.
        var f = Fields.map(root, p, istioWrapper ? null : KEYS);
        var d = MeshConfig.DEFAULT;
        String rootNs = orDefault(Fields.string(f.get("rootNamespace"), p), d.rootNamespace());
        String td = orDefault(Fields.string(f.get("trustDomain"), p), d.trustDomain());
        var aliases = Fields.stringList(f.get("trustDomainAliases"), p);
        var norm = d.pathNormalization();
        var normNode = f.get("pathNormalization");
        String normText = null;
        if (normNode != null && !normNode.isMap()) {
            normText = Fields.string(normNode, p);
        } else if (normNode != null) {
            // Istio spells it meshConfig.pathNormalization.normalization
            var nf = Fields.map(normNode, p, Set.of("normalization"));
            normText = Fields.string(nf.get("normalization"), p);
        }
        if (normText != null) {
            try {
                norm = PathNormalization.parse(normText);
            } catch (IllegalArgumentException e) {
                p.at(normNode, e.getMessage());
            }
        }
        List<String> providers = null;
        var provNodes = Fields.listOrNull(f.get("extensionProviders"), p);
        if (provNodes != null) {
            providers = new ArrayList<>();
            for (var n : provNodes) {
                if (n.isScalar()) {
                    providers.add(n.text());
                } else if (n.isMap()) {
                    String pn = Fields.string(n.entries().get("name"), p);
                    if (pn == null || pn.isEmpty()) {
                        p.at(n, ".name", "is missing (expected: the provider name)");
                    } else {
                        providers.add(pn);
                    }
                } else {
                    p.at(n, "is " + n.kindName() + " (expected: a provider name or a map with name)");
                }
            }
        }
        boolean extended = f.containsKey("extendedConditions") && Fields.bool(f.get("extendedConditions"), p);
        var zone = d.timeZone();
        String zoneText = Fields.string(f.get("timeZone"), p);
        if (zoneText != null) {
            try {
                zone = ZoneId.of(zoneText);
            } catch (DateTimeException e) {
                p.at(
                        f.get("timeZone"),
                        "is \"" + zoneText + "\" (expected: an IANA time zone such as UTC or Europe/Berlin)");
            }
        }
        if (p.any()) {
            throw new InvalidMeshConfigException(p.errors());
        }
        return new MeshConfig(rootNs, td, aliases, norm, providers, extended, zone);
    }

    private static String orDefault(String v, String d) {
        return v == null || v.isEmpty() ? d : v;
    }
}
