package io.ambit.xds.file;

import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.load.DuplicateKeys;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlDepth;
import io.ambit.policy.load.YamlErrorLine;
import io.ambit.policy.load.YamlNode;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.MeshExtension;
import io.ambit.xds.mesh.MeshState;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads a local mesh file: multi-document YAML where one document without {@code kind} holds
 * {@code mesh:} (the keys of the authz mesh file), {@code workloads:} and {@code services:} (ztunnel's
 * local-file field names, camelCase), and every other document is an Istio AuthorizationPolicy,
 * PeerAuthentication or RequestAuthentication, or of a kind an installed {@link MeshExtension} reads (the
 * waypoint's {@code EnvoyFilter} local_ratelimit and {@code LocalRateLimit}), whose value the state then
 * carries. The whole file is accepted or refused: unlike a policy
 * directory, a half-loaded mesh would route to the wrong places. Unknown fields are errors, as ztunnel's
 * {@code deny_unknown_fields}. Hostile YAML meets the policy loader's guards (depth, alias and node
 * budgets).
 */
public final class LocalMeshFile {
    private static final Set<String> CRD_KINDS =
            Set.of("AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "List");

    private static final Logger log = LoggerFactory.getLogger(LocalMeshFile.class);

    private LocalMeshFile() {}

    /**
     * Parses and validates one file's text, and compiles its policies, with the {@linkplain
     * MeshExtension#installed() installed} extensions.
     *
     * @param name the file name, used in every error
     * @throws InvalidMeshFileException with every problem found
     */
    public static MeshState parse(String text, String name) throws InvalidMeshFileException {
        return parse(text, name, MeshExtension.installed());
    }

    /**
     * Parses and validates one file's text, compiles its policies, and reads the documents of
     * {@code extensions}' kinds with them (a document of any other kind refuses the file).
     *
     * @param name the file name, used in every error
     * @throws InvalidMeshFileException with every problem found
     */
    public static MeshState parse(String text, String name, List<MeshExtension<?>> extensions)
            throws InvalidMeshFileException {
        var extensionKinds = new TreeMap<String, String>(); // sorted: messages read the same on every run
        for (var e : extensions) {
            extensionKinds.putAll(e.kinds());
        }
        var errors = new ArrayList<LoadError>();
        int deep = YamlDepth.tooDeep(text);
        if (deep > 0) {
            throw new InvalidMeshFileException(List.of(new LoadError(
                    name,
                    deep,
                    null,
                    null,
                    "invalid YAML: nested more than " + YamlDepth.MAX_FLOW_DEPTH
                            + " levels (expected: a mesh file, which never nests that deep)")));
        }
        var p = new Problems(name);
        YamlNode meshDoc = null;
        MeshConfig mesh = MeshConfig.DEFAULT;
        MeshReader.Result read = null;
        try {
            var settings = LoadSettings.builder()
                    .setLabel(name)
                    .setCodePointLimit(64 * 1024 * 1024)
                    .setMaxAliasesForCollections(50)
                    .setAllowDuplicateKeys(false)
                    .build();
            var budget = new YamlNode.Budget();
            var seen = Collections.newSetFromMap(new IdentityHashMap<Object, Boolean>());
            for (var node : new Compose(settings).composeAllFromReader(new StringReader(text))) {
                if (node == null) {
                    continue;
                }
                var doc = new YamlNode(node, "", budget);
                if (doc.isNull()) {
                    continue;
                }
                if (!seen.add(node)) {
                    errors.add(new LoadError(
                            name,
                            doc.line(),
                            null,
                            null,
                            "repeats an earlier document through a YAML alias (expected: each document written once)"));
                    continue;
                }
                if (!doc.isMap()) {
                    errors.add(new LoadError(
                            name,
                            doc.line(),
                            null,
                            null,
                            "is " + doc.kindName() + " (expected: the mesh document or an Istio object, each a map)"));
                    continue;
                }
                DuplicateKeys.check(node, name, errors);
                var top = doc.entries();
                var kind = top.get("kind");
                if (kind == null) {
                    if (meshDoc != null) {
                        errors.add(new LoadError(
                                name,
                                doc.line(),
                                null,
                                null,
                                "is a second document without kind (first at line " + meshDoc.line()
                                        + "; expected: one mesh document with workloads, services and mesh)"));
                    } else {
                        meshDoc = doc;
                    }
                } else if (kind.isScalar() && extensionKinds.containsKey(kind.text())) {
                    String group = extensionKinds.get(kind.text());
                    var api = top.get("apiVersion");
                    if (api == null || !api.isScalar() || !api.text().startsWith(group)) {
                        p.at(
                                api == null ? doc : api,
                                api == null ? ".apiVersion" : "",
                                (api == null ? "is missing" : "is " + api.kindName()) + " (expected: " + group
                                        + "... for kind " + kind.text() + ")");
                    }
                } else if (!kind.isScalar() || !CRD_KINDS.contains(kind.text())) {
                    p.at(
                            kind,
                            "is " + kind.kindName() + " (expected: AuthorizationPolicy, PeerAuthentication or "
                                    + "RequestAuthentication"
                                    + (extensionKinds.isEmpty()
                                            ? ""
                                            : ", " + String.join(", ", extensionKinds.keySet()))
                                    + "; the mesh document has no kind)");
                } else {
                    var api = top.get("apiVersion");
                    if (!kind.text().equals("List")
                            && (api == null || !api.isScalar() || !api.text().startsWith("security.istio.io/"))) {
                        p.at(
                                api == null ? doc : api,
                                api == null ? ".apiVersion" : "",
                                (api == null ? "is missing" : "is " + api.kindName())
                                        + " (expected: security.istio.io/v1 or security.istio.io/v1beta1)");
                    }
                }
            }
            if (meshDoc != null) {
                var meshNode = meshDoc.entries().get("mesh");
                mesh = MeshSettings.read(meshNode, text, name, errors);
                read = MeshReader.read(meshDoc, mesh, p);
            }
        } catch (YamlNode.TooLargeException e) {
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: " + e.getMessage()));
        } catch (StackOverflowError e) {
            errors.add(new LoadError(name, 0, null, null, "invalid YAML: nested too deeply to parse"));
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            errors.add(new LoadError(name, line, null, null, "invalid YAML: " + e.getProblem()));
        } catch (YamlEngineException e) {
            errors.add(new LoadError(name, YamlErrorLine.of(text, e), null, null, "invalid YAML: " + e.getMessage()));
        }
        errors.addAll(p.errors());
        if (!errors.isEmpty()) {
            throw new InvalidMeshFileException(errors);
        }
        // The policy loader reads the same text again and skips the mesh document (it has no kind).
        var policies =
                new PolicyLoader(mesh.extendedConditions()).text(text, name).result();
        errors.addAll(policies.errors());
        var values = new HashMap<Class<?>, Object>();
        for (var e : extensions) {
            read(e, text, name, mesh, values, errors);
        }
        if (!errors.isEmpty()) {
            throw new InvalidMeshFileException(errors);
        }
        var snapshot = PolicyCompiler.compile(policies.policies(), mesh);
        var state = read == null
                ? MeshState.of(List.of(), List.of(), snapshot, name)
                : MeshState.of(read.workloads(), read.services(), snapshot, name);
        return values.isEmpty() ? state : state.withExtensions(values);
    }

    private static <T> void read(
            MeshExtension<T> extension,
            String text,
            String name,
            MeshConfig mesh,
            Map<Class<?>, Object> values,
            List<LoadError> errors) {
        MeshExtension.Result<T> r;
        try {
            r = extension.read(text, name, mesh);
        } catch (RuntimeException e) {
            // an extension's bug must refuse the file, not publish a state without its objects
            errors.add(new LoadError(
                    name,
                    0,
                    null,
                    null,
                    "cannot be read by " + extension.getClass().getName() + ": " + e));
            return;
        }
        errors.addAll(r.errors());
        for (String w : r.warnings()) {
            log.warn("{}: {}", name, w);
        }
        if (r.errors().isEmpty() && r.value() != null) {
            values.put(extension.type(), r.value());
        }
    }
}
