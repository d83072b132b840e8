package io.ambit.cli.authz;

import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ambit authz check}: decides requests against policies exactly as ztunnel (L4) or a waypoint
 * (L7) would, one JSON decision per request on stdout. Exit 0 when every request was decided, 2 on bad
 * input (a policy, the mesh file, a request), with messages on stderr naming file, line and field.
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {
            "Decide requests against AuthorizationPolicy, PeerAuthentication and RequestAuthentication as Istio's",
            "ztunnel (layer L4) or waypoint (layer L7) would, and explain each decision.",
            "",
            "Output: one JSON object per request, in order:",
            "  {\"decision\": \"ALLOW|DENY|CUSTOM\", \"provider\"?, \"reason\", \"policy\", \"rule\", \"explanation\"}",
            "Exit status: 0 when every request was decided; 2 on bad input."
        })
public final class AuthzCheckCommand implements Callable<Integer> {
    @Option(
            names = "--policies",
            required = true,
            paramLabel = "PATH",
            description = "A YAML file (multi-document) or a directory (recursive *.yaml, *.yml). Repeatable.")
    List<Path> policies;

    @Option(
            names = "--mesh",
            paramLabel = "FILE",
            description = "Mesh settings: rootNamespace, trustDomain, trustDomainAliases, pathNormalization, "
                    + "extensionProviders, extendedConditions, timeZone.")
    Path mesh;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--request", paramLabel = "FILE", description = "One JSON request; - reads stdin.")
        String request;

        @Option(
                names = "--requests",
                paramLabel = "FILE",
                description = "JSON Lines, one request per line; - reads stdin.")
        String requests;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean bad = false;

        MeshConfig meshConfig = MeshConfig.DEFAULT;
        if (mesh != null) {
            try {
                meshConfig = MeshConfigLoader.load(mesh);
            } catch (MeshConfigLoader.InvalidMeshConfigException e) {
                e.errors().forEach(x -> err.println("error: " + x));
                err.flush();
                return 2;
            }
        }

        var loaded = new PolicyLoader(meshConfig.extendedConditions())
                .paths(policies)
                .result();
        for (var e : loaded.errors()) {
            err.println("error: " + e);
            bad = true;
        }
        PolicySnapshot snapshot = PolicyCompiler.compile(loaded.policies(), meshConfig);
        for (String ref : snapshot.unenforced()) {
            err.println("warning: policy " + ref + " is enforced nowhere (CUSTOM/AUDIT without targetRefs are ignored "
                    + "by ztunnel; or its targetRefs can never match)");
        }

        var reader = new RequestReader();
        String source = input.request != null ? input.request : input.requests;
        try (BufferedReader in = open(source)) {
            if (input.request != null) {
                bad |= decide(snapshot, reader, readAll(in), source, 0, out, err);
            } else {
                int lineNo = 0;
                for (String line; (line = in.readLine()) != null; ) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    bad |= decide(snapshot, reader, line, source, lineNo, out, err);
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            err.println("error: " + source + ": no such file (expected: a JSON request file, or - for stdin)");
            bad = true;
        } catch (java.nio.charset.CharacterCodingException e) {
            err.println("error: " + source + ": not valid UTF-8 (expected: JSON text in UTF-8)");
            bad = true;
        } catch (IOException e) {
            String why = Files.isDirectory(Path.of(source)) ? "is a directory" : e.toString();
            err.println(
                    "error: " + source + ": cannot read: " + why + " (expected: a JSON request file, or - for stdin)");
            bad = true;
        }
        if (!reader.unknownFields.isEmpty()) {
            err.println("warning: ignored unknown request fields: " + String.join(", ", reader.unknownFields));
        }
        out.flush();
        err.flush();
        return bad ? 2 : 0;
    }

    /** Decides one request; returns true when the input was bad. */
    private static boolean decide(
            PolicySnapshot snapshot,
            RequestReader reader,
            String text,
            String source,
            int line,
            PrintWriter out,
            PrintWriter err) {
        try {
            var parsed = reader.parse(text);
            var d = parsed.l7() ? snapshot.decideL7(parsed.request()) : snapshot.decideL4(parsed.request());
            out.println(DecisionJson.of(d));
            return false;
        } catch (RequestParseException e) {
            String where = line > 0 ? source + ":" + line : source;
            err.println("error: " + where + ": " + e.getMessage());
            out.println(DecisionJson.error(where + ": " + e.getMessage()));
            return true;
        } catch (RuntimeException e) {
            // An engine bug must not take down a run of thousands of requests: report it in place.
            String where = line > 0 ? source + ":" + line : source;
            err.println("error: " + where + ": internal error deciding this request: " + e);
            out.println(DecisionJson.error(where + ": internal error: " + e));
            return true;
        }
    }

    private static BufferedReader open(String source) throws IOException {
        if (source.equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        return Files.newBufferedReader(Path.of(source), StandardCharsets.UTF_8);
    }

    private static String readAll(BufferedReader in) throws IOException {
        var sb = new StringBuilder();
        char[] buf = new char[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            sb.append(buf, 0, n);
        }
        return sb.toString();
    }
}
