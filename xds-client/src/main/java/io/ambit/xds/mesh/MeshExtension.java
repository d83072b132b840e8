package io.ambit.xds.mesh;

import io.ambit.policy.load.LoadError;
import io.ambit.policy.mesh.MeshConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Objects of kinds the mesh core does not interpret but a proxy does — the waypoint's local rate limits
 * (the article's {@code EnvoyFilter}, Ambit's {@code LocalRateLimit}). A local mesh file accepts documents
 * of an extension's kinds; the extension reads them, and a problem it reports refuses the whole file with
 * its file:line like every other error (the last good state keeps serving). The value it read travels in
 * the {@link MeshState} ({@link MeshState#extension(Class)}), so an edit reaches the proxy the way every
 * other edit does: with the next published state.
 *
 * <p>Extensions are found with {@link ServiceLoader} ({@link #installed()}), so the module that owns a
 * kind (the waypoint) plugs it in without xds-client depending on it. Implementations must be stateless
 * and thread-safe.
 *
 * @param <T> the value read from a file; immutable
 */
public interface MeshExtension<T> {

    /** The type of the value: {@link MeshState#extension(Class)} finds it by this. One extension per type. */
    Class<T> type();

    /**
     * The kinds this extension reads, each with the {@code apiVersion} prefix its documents must have (e.g.
     * {@code EnvoyFilter} → {@code networking.istio.io/}). A document of such a kind with another
     * apiVersion refuses the file.
     */
    Map<String, String> kinds();

    /**
     * Reads every document of its kinds in a file's text, skipping the others (the file's other readers
     * take those).
     *
     * @param text the whole file
     * @param fileName for messages
     * @param mesh the file's mesh settings (root namespace, ...)
     */
    Result<T> read(String text, String fileName, MeshConfig mesh);

    /**
     * What {@link #read} found.
     *
     * @param value the value, used only when {@code errors} is empty
     * @param errors problems that refuse the file
     * @param warnings notes worth a log line (a limit that counts nothing), which do not refuse it
     */
    record Result<T>(T value, List<LoadError> errors, List<String> warnings) {
        public Result {
            errors = List.copyOf(errors);
            warnings = List.copyOf(warnings);
        }
    }

    /** The extensions on the class path ({@code META-INF/services/io.ambit.xds.mesh.MeshExtension}). */
    static List<MeshExtension<?>> installed() {
        return Installed.ALL;
    }

    /** Loaded once: the class path does not change while a process runs. */
    final class Installed {
        static final List<MeshExtension<?>> ALL = load();

        private Installed() {}

        private static List<MeshExtension<?>> load() {
            var out = new ArrayList<MeshExtension<?>>();
            for (MeshExtension<?> e : ServiceLoader.load(MeshExtension.class, MeshExtension.class.getClassLoader())) {
                out.add(e);
            }
            return List.copyOf(out);
        }
    }
}
