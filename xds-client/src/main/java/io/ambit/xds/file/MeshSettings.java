package io.ambit.xds.file;

import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.YamlNode;
import io.ambit.policy.mesh.MeshConfig;
import java.util.List;
import org.snakeyaml.engine.v2.exceptions.Mark;

/**
 * Reads the {@code mesh:} block with the authz mesh-file reader, so both files accept exactly the same
 * keys. That reader takes text, so the block is cut out of the file and padded with the newlines and
 * spaces before it: every line and column stays where it was and errors point into the user's file.
 */
final class MeshSettings {
    private MeshSettings() {}

    static MeshConfig read(YamlNode node, String text, String name, List<LoadError> errors) {
        if (node == null || node.isNull()) {
            return MeshConfig.DEFAULT;
        }
        if (!node.isMap()) {
            errors.add(new LoadError(name, node.line(), null, "mesh", "is " + node.kindName() + " (expected: a map)"));
            return MeshConfig.DEFAULT;
        }
        var start = node.raw().getStartMark();
        var end = node.raw().getEndMark();
        if (start.isEmpty() || end.isEmpty()) {
            errors.add(new LoadError(name, 0, null, "mesh", "cannot locate the block in the file"));
            return MeshConfig.DEFAULT;
        }
        int from = offset(text, start.get());
        int to = Math.max(from, offset(text, end.get()));
        String block =
                "\n".repeat(start.get().getLine()) + " ".repeat(start.get().getColumn()) + text.substring(from, to);
        try {
            return MeshConfigLoader.parse(block, name);
        } catch (MeshConfigLoader.InvalidMeshConfigException e) {
            for (var err : e.errors()) {
                String field = err.field() == null || err.field().isEmpty() ? "mesh" : "mesh." + err.field();
                errors.add(new LoadError(err.file(), err.line(), null, field, err.message()));
            }
            return MeshConfig.DEFAULT;
        }
    }

    /** The char offset of a mark (marks count lines, and code points within a line). */
    private static int offset(String text, Mark mark) {
        int i = 0;
        for (int line = 0; line < mark.getLine(); line++) {
            int nl = text.indexOf('\n', i);
            if (nl < 0) {
                return text.length();
            }
            i = nl + 1;
        }
        int lineEnd = text.indexOf('\n', i);
        int limit = lineEnd < 0 ? text.length() : lineEnd;
        int cps = Math.min(mark.getColumn(), text.codePointCount(i, limit));
        return text.offsetByCodePoints(i, cps);
    }
}
