package io.ambit.policy.load;

import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.RequestAuthentication;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Loads AuthorizationPolicy, PeerAuthentication and RequestAuthentication objects
 * ({@code security.istio.io/v1} and {@code v1beta1}) from multi-document YAML files and directories.
 * Other kinds are skipped; {@code kind: List} is unwrapped. Each invalid object is reported with its
 * file, line, name and field path and left out; the valid rest loads.
 *
 * <p>Not thread-safe: one loader per load.
 */
public final class PolicyLoader {
    private static final String GROUP = "security.istio.io/";
    private static final Set<String> VERSIONS = Set.of("security.istio.io/v1", "security.istio.io/v1beta1");
    private static final Set<String> KINDS =
            Set.of("AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication");

    private final boolean extendedConditions;
    private final List<AuthorizationPolicy> authz = new ArrayList<>();
    private final List<PeerAuthentication> peer = new ArrayList<>();
    private final List<RequestAuthentication> request = new ArrayList<>();
    private final List<LoadError> errors = new ArrayList<>();
    private final Map<String, String> seen = new HashMap<>();
    private int skipped;
    private long order;

    /**
     * @param extendedConditions the mesh-wide switch for Ambit's extended conditions; when false, only
     *     policies annotated {@code ambit.io/extended-conditions: "true"} may use them
     */
    public PolicyLoader(boolean extendedConditions) {
        this.extendedConditions = extendedConditions;
    }

    /** Loads files and directories (recursively, {@code *.yaml} and {@code *.yml}, in name order). */
    public PolicyLoader paths(List<Path> paths) {
        for (var path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> walk = Files.walk(path)) {
                    walk.filter(Files::isRegularFile)
                            .filter(f -> {
                                String n = f.getFileName().toString();
                                return n.endsWith(".yaml") || n.endsWith(".yml");
                            })
                            .sorted()
                            .forEach(this::file);
                } catch (IOException | UncheckedIOException e) {
                    errors.add(
                            new LoadError(path.toString(), 0, null, null, "cannot read directory: " + e.getMessage()));
                }
            } else if (Files.isRegularFile(path)) {
                file(path);
            } else {
                errors.add(new LoadError(
                        path.toString(),
                        0,
                        null,
                        null,
                        "no such file or directory (expected: a YAML file or a directory of them)"));
            }
        }
        return this;
    }

    private void file(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            errors.add(new LoadError(file.toString(), 0, null, null, "cannot read file: " + e.getMessage()));
            return;
        }
        text(text, file.toString());
    }

    /** Loads YAML text; {@code name} is used in messages. */
    public PolicyLoader text(String text, String name) {
        var settings = LoadSettings.builder()
                .setLabel(name)
                .setCodePointLimit(256 * 1024 * 1024)
                .setMaxAliasesForCollections(50)
                .setAllowDuplicateKeys(false)
                .build();
        int deep = YamlDepth.tooDeep(text);
        if (deep > 0) {
            errors.add(new LoadError(
                    name,
                    deep,
                    null,
                    null,
                    "invalid YAML: nested more than " + YamlDepth.MAX_FLOW_DEPTH
                            + " levels (expected: a policy, which never nests that deep)"));
            return this;
        }
        var budget = new YamlNode.Budget();
        var seenDocuments = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Object, Boolean>());
        try {
            for (var node : new Compose(settings).composeAllFromReader(new StringReader(text))) {
                if (node != null) {
                    document(new YamlNode(node, "", budget), name, seenDocuments);
                }
            }
        } catch (YamlNode.TooLargeException e) {
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: " + e.getMessage()));
        } catch (StackOverflowError e) {
            // Backstop for nesting the pre-scan cannot see; the parser's state is discarded with it.
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: nested too deeply to parse"));
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            errors.add(new LoadError(name, line, null, null, "invalid YAML: " + e.getProblem()));
        } catch (YamlEngineException e) {
            errors.add(new LoadError(name, YamlErrorLine.of(text, e), null, null, "invalid YAML: " + e.getMessage()));
        }
        return this;
    }

    public LoadResult result() {
        return new LoadResult(new PolicySet(authz, peer, request), errors, skipped);
    }

    private void document(YamlNode doc, String file, java.util.Set<Object> documents) {
        if (doc.isNull()) {
            return;
        }
        var duplicates = new ArrayList<LoadError>();
        DuplicateKeys.check(doc.raw(), file, duplicates);
        if (!duplicates.isEmpty()) {
            // the second value would silently win: the object is ambiguous, so it is refused
            errors.addAll(duplicates);
            return;
        }
        if (!documents.add(doc.raw())) {
            // A YAML alias reusing a document would load it twice, or exponentially often.
            errors.add(new LoadError(
                    file,
                    doc.line(),
                    null,
                    doc.path(),
                    "repeats an earlier document through a YAML alias (expected: each object written once)"));
            return;
        }
        var p = new Problems(file);
        if (!doc.isMap()) {
            skipped++;
            return;
        }
        var top = doc.entries();
        String apiVersion =
                top.get("apiVersion") != null && top.get("apiVersion").isScalar()
                        ? top.get("apiVersion").text()
                        : "";
        String kind = top.get("kind") != null && top.get("kind").isScalar()
                ? top.get("kind").text()
                : "";
        if (kind.equals("List") && top.containsKey("items")) {
            var items = Fields.listOrNull(top.get("items"), p);
            if (items != null) {
                items.forEach(i -> document(i, file, documents));
            }
            errors.addAll(p.errors());
            return;
        }
        if (!KINDS.contains(kind) || !apiVersion.startsWith(GROUP)) {
            skipped++;
            return;
        }
        var meta = meta(doc, top.get("metadata"), kind, file, p);
        if (meta == null) {
            errors.addAll(p.errors());
            return;
        }
        p.object(kind + " " + meta.ref());
        if (!VERSIONS.contains(apiVersion)) {
            p.at(
                    top.get("apiVersion"),
                    "is \"" + apiVersion + "\" (expected: security.istio.io/v1 or security.istio.io/v1beta1)");
            errors.addAll(p.errors());
            return;
        }
        String id = kind + " " + meta.ref();
        String first = seen.putIfAbsent(id, meta.source());
        if (first != null) {
            p.at(doc, "is defined twice (first at " + first + "; expected: one object per kind, namespace and name)");
            errors.addAll(p.errors());
            return;
        }
        var spec = top.get("spec");
        switch (kind) {
            case "AuthorizationPolicy" -> add(authz, AuthorizationPolicyReader.read(spec, meta, p, extendedConditions));
            case "PeerAuthentication" -> add(peer, PeerAuthenticationReader.read(spec, meta, p));
            default -> add(request, RequestAuthenticationReader.read(spec, meta, p));
        }
        errors.addAll(p.errors());
    }

    private static <T> void add(List<T> list, T value) {
        if (value != null) {
            list.add(value);
        }
    }

    private PolicyMeta meta(YamlNode doc, YamlNode node, String kind, String file, Problems p) {
        if (node == null || !node.isMap()) {
            p.object(kind);
            p.at(doc, ".metadata", "is missing (expected: a map with at least name)");
            return null;
        }
        var f = Fields.map(node, p, null);
        String name = Fields.string(f.get("name"), p);
        if (name == null || name.isEmpty()) {
            p.object(kind);
            p.at(node, ".name", "is missing (expected: a non-empty object name)");
            return null;
        }
        String ns = Fields.string(f.get("namespace"), p);
        if (ns == null || ns.isEmpty()) {
            ns = "default"; // what kubectl apply does without -n
        }
        p.object(kind + " " + ns + "/" + name);
        var annotations = Fields.stringMap(f.get("annotations"), p);
        Instant created = null;
        String ts = Fields.string(f.get("creationTimestamp"), p);
        if (ts != null) {
            try {
                created = Instant.parse(ts);
            } catch (DateTimeParseException e) {
                p.at(
                        f.get("creationTimestamp"),
                        "is \"" + ts + "\" (expected: an RFC 3339 time such as 2026-01-02T15:04:05Z)");
            }
        }
        return new PolicyMeta(name, ns, annotations, created, order++, file + ":" + doc.line());
    }
}
