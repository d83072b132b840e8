package io.ambit.waypoint.ratelimit;

import io.ambit.policy.load.DuplicateKeys;
import io.ambit.policy.load.Fields;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlDepth;
import io.ambit.policy.load.YamlErrorLine;
import io.ambit.policy.load.YamlNode;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads the rate limits of YAML files (the same files as the policies): the article's EnvoyFilter with
 * {@code envoy.filters.http.local_ratelimit}, and Ambit's {@code LocalRateLimit}. Other kinds are skipped
 * (the policy loader reads those). An invalid object is reported with its file, line, name and field, the
 * rest of the file still loads; the caller keeps its last good limits when {@link Result#ok()} is false.
 *
 * <pre>{@code
 * var r = new RateLimitLoader("istio-system").text(yaml, "mesh.yaml").result();
 * if (r.ok()) rateLimits.update(r.limits()); else report(r.errors());
 * }</pre>
 */
public final class RateLimitLoader {
    /** The outcome: the valid limits, every error, and notes worth a warning (a limit that counts nothing). */
    public record Result(List<LocalRateLimit> limits, List<LoadError> errors, List<String> warnings) {
        public Result {
            limits = List.copyOf(limits);
            errors = List.copyOf(errors);
            warnings = List.copyOf(warnings);
        }

        public boolean ok() {
            return errors.isEmpty();
        }
    }

    private final String rootNamespace;
    private final List<LocalRateLimit> limits = new ArrayList<>();
    private final List<LoadError> errors = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, String> seen = new HashMap<>();

    /** @param rootNamespace the mesh's root namespace: an untargeted limit there applies mesh-wide */
    public RateLimitLoader(String rootNamespace) {
        this.rootNamespace = rootNamespace;
    }

    /** Reads YAML text; {@code name} is used in messages. */
    public RateLimitLoader text(String text, String name) {
        int deep = YamlDepth.tooDeep(text);
        if (deep > 0) {
            errors.add(new LoadError(
                    name,
                    deep,
                    null,
                    null,
                    "invalid YAML: nested more than " + YamlDepth.MAX_FLOW_DEPTH + " levels (expected: a rate limit)"));
            return this;
        }
        var settings = LoadSettings.builder()
                .setLabel(name)
                .setAllowDuplicateKeys(false)
                .setMaxAliasesForCollections(50)
                .build();
        var budget = new YamlNode.Budget();
        try {
            for (var node : new Compose(settings).composeAllFromReader(new StringReader(text))) {
                if (node != null) {
                    var dups = new ArrayList<LoadError>();
                    DuplicateKeys.check(node, name, dups);
                    if (!dups.isEmpty()) {
                        errors.addAll(dups);
                        continue;
                    }
                    document(new YamlNode(node, "", budget), name);
                }
            }
        } catch (YamlNode.TooLargeException e) {
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: " + e.getMessage()));
        } catch (StackOverflowError e) {
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: nested too deeply to parse"));
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            errors.add(new LoadError(name, line, null, null, "invalid YAML: " + e.getProblem()));
        } catch (YamlEngineException e) {
            // unmarked: a map or list as a key, or a control character (YamlErrorLine finds the line)
            errors.add(new LoadError(name, YamlErrorLine.of(text, e), null, null, "invalid YAML: " + e.getMessage()));
        }
        return this;
    }

    public Result result() {
        return new Result(limits, errors, warnings);
    }

    private void document(YamlNode doc, String file) {
        if (!doc.isMap()) {
            return;
        }
        var top = doc.entries();
        String kind = text(top.get("kind"));
        String api = text(top.get("apiVersion"));
        if (kind.equals("List") && top.get("items") != null && top.get("items").isList()) {
            for (var item : top.get("items").items()) {
                document(item, file);
            }
            return;
        }
        boolean envoyFilter = kind.equals("EnvoyFilter") && api.startsWith("networking.istio.io/");
        boolean ambit = kind.equals("LocalRateLimit") && api.startsWith("ambit.io/");
        if (!envoyFilter && !ambit) {
            return; // policies and mesh objects are read by their own loaders
        }
        var p = new Problems(file);
        p.object(kind);
        var meta = Fields.map(top.get("metadata"), p, null);
        String name = Fields.string(meta.get("name"), p);
        String ns = Fields.string(meta.get("namespace"), p);
        ns = ns == null || ns.isEmpty() ? "default" : ns;
        if (name == null || name.isEmpty()) {
            p.at(doc, ".metadata.name", "is missing (expected: the object's name)");
            errors.addAll(p.errors());
            return;
        }
        String ref = kind + " " + ns + "/" + name;
        p.object(ref);
        String first = seen.putIfAbsent(ref, file + ":" + doc.line());
        if (first != null) {
            p.at(doc, "is defined twice (first at " + first + "; expected: one object per kind, namespace and name)");
            errors.addAll(p.errors());
            return;
        }
        var specNode = top.get("spec");
        if (specNode == null || !specNode.isMap()) {
            p.at(specNode != null ? specNode : doc, "spec is missing (expected: a map)");
            errors.addAll(p.errors());
            return;
        }
        var spec = specNode.entries();
        if (envoyFilter) {
            Fields.map(
                    specNode,
                    p,
                    java.util.Set.of("workloadSelector", "targetRefs", "targetRef", "configPatches", "priority"));
            var read = EnvoyFilterReader.read(ref, ns, rootNamespace, spec, specNode, p, warnings);
            if (!p.any()) {
                limits.addAll(read);
            }
        } else {
            var l = AmbitLimitReader.read(ref, ns, rootNamespace, spec, specNode, p);
            if (!p.any() && l != null) {
                limits.add(l);
            }
        }
        errors.addAll(p.errors());
    }

    private static String text(YamlNode n) {
        return n != null && n.isScalar() ? n.text() : "";
    }
}
