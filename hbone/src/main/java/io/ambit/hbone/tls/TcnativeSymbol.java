package io.ambit.hbone.tls;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds the address of a function that the loaded netty-tcnative library contains but does not export.
 * tcnative links BoringSSL statically and exports only its JNI entry points, so {@code dlsym} cannot see
 * BoringSSL's functions; its symbol table ({@code .symtab}) still lists them. The address is the library's
 * load address (from {@code /proc/self/maps}) plus the symbol's value in the same library file as shipped
 * in the tcnative jar on the class path.
 *
 * <p>Calling a wrong address would crash the JVM, so nothing is returned unless every check holds: the jar's
 * library has the same GNU build id as the one in memory (the same binary, byte for byte where it matters),
 * the symbol is a function of non-zero size, and the address lies in an executable mapping of that library.
 * Any other outcome is an empty result with the reason, never an exception.
 */
final class TcnativeSymbol {
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int SHT_SYMTAB = 2;
    private static final int STT_FUNC = 2;
    private static final int NT_GNU_BUILD_ID = 3;

    /** The library files tcnative ships per Linux architecture, as named inside its jar. */
    private static final List<String> RESOURCES = List.of(
            "META-INF/native/libnetty_tcnative_linux_x86_64.so", "META-INF/native/libnetty_tcnative_linux_aarch_64.so");

    /** The outcome: the function's address, or why there is none. */
    record Lookup(Optional<MemorySegment> address, String reason) {}

    private TcnativeSymbol() {}

    /** The address of {@code symbol} in the loaded tcnative library (which must be loaded already). */
    static Lookup find(String symbol) {
        try {
            List<Mapping> mappings = tcnativeMappings();
            if (mappings.isEmpty()) {
                return none("no netty_tcnative library in /proc/self/maps");
            }
            Mapping base =
                    mappings.stream().filter(m -> m.offset == 0).findFirst().orElse(null);
            if (base == null) {
                return none("the netty_tcnative mapping at file offset 0 is missing from /proc/self/maps");
            }
            for (String resource : RESOURCES) {
                byte[] file = read(resource);
                if (file == null) {
                    continue;
                }
                Elf elf = Elf.parse(file);
                long bias = base.start - elf.firstLoadVaddr;
                byte[] inMemory = elf.buildIdAt(bias, base.end);
                if (inMemory == null || !Arrays.equals(inMemory, elf.buildId)) {
                    continue; // not the library that is loaded (another architecture or version)
                }
                long[] sym = elf.symbol(symbol);
                if (sym == null || sym[1] <= 0) {
                    return none(symbol + " is not a function in " + resource);
                }
                long address = bias + sym[0];
                boolean executable = mappings.stream()
                        .anyMatch(m -> m.executable && m.start <= address && address + sym[1] <= m.end);
                if (!executable) {
                    return none(symbol + " at 0x" + Long.toHexString(address) + " is outside tcnative's code");
                }
                return new Lookup(Optional.of(MemorySegment.ofAddress(address)), "");
            }
            return none("no tcnative library on the class path has the build id of the loaded one");
        } catch (IOException | RuntimeException e) {
            return none("cannot read the tcnative library: " + e);
        }
    }

    private static Lookup none(String reason) {
        return new Lookup(Optional.empty(), reason);
    }

    private static byte[] read(String resource) throws IOException {
        try (InputStream in =
                io.netty.internal.tcnative.SSL.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private record Mapping(long start, long end, long offset, boolean executable) {}

    private static List<Mapping> tcnativeMappings() throws IOException {
        List<Mapping> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.UTF_8)) {
            // start-end perms offset dev inode path
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 6 || !f[5].contains("netty_tcnative")) {
                continue;
            }
            String[] range = f[0].split("-");
            found.add(new Mapping(
                    Long.parseUnsignedLong(range[0], 16),
                    Long.parseUnsignedLong(range[1], 16),
                    Long.parseUnsignedLong(f[2], 16),
                    f[1].indexOf('x') >= 0));
        }
        return found;
    }

    /** The parts of a little-endian ELF64 shared object this lookup needs. */
    private static final class Elf {
        final ByteBuffer b;
        final long firstLoadVaddr;
        final long noteVaddr;
        final long noteSize;
        final byte[] buildId;

        private Elf(ByteBuffer b, long firstLoadVaddr, long noteVaddr, long noteSize, byte[] buildId) {
            this.b = b;
            this.firstLoadVaddr = firstLoadVaddr;
            this.noteVaddr = noteVaddr;
            this.noteSize = noteSize;
            this.buildId = buildId;
        }

        static Elf parse(byte[] file) {
            ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
            if (file.length < 64 || b.getInt(0) != 0x464c457f || file[4] != 2 || file[5] != 1) {
                throw new IllegalArgumentException("not a little-endian ELF64 file");
            }
            long phoff = b.getLong(0x20);
            int phentsize = Short.toUnsignedInt(b.getShort(0x36));
            int phnum = Short.toUnsignedInt(b.getShort(0x38));
            long firstLoad = -1;
            long noteVaddr = -1;
            long noteSize = 0;
            byte[] buildId = null;
            for (int i = 0; i < phnum; i++) {
                int ph = Math.toIntExact(phoff + (long) i * phentsize);
                int type = b.getInt(ph);
                if (type == PT_LOAD && firstLoad < 0) {
                    firstLoad = b.getLong(ph + 0x10) & ~0xfffL;
                } else if (type == PT_NOTE && buildId == null) {
                    long offset = b.getLong(ph + 8);
                    long size = b.getLong(ph + 0x20);
                    byte[] notes = Arrays.copyOfRange(file, Math.toIntExact(offset), Math.toIntExact(offset + size));
                    buildId = buildId(notes);
                    if (buildId != null) {
                        noteVaddr = b.getLong(ph + 0x10);
                        noteSize = size;
                    }
                }
            }
            if (firstLoad < 0 || buildId == null) {
                throw new IllegalArgumentException("no PT_LOAD or no GNU build id");
            }
            return new Elf(b, firstLoad, noteVaddr, noteSize, buildId);
        }

        /**
         * The build id in the notes loaded at {@code bias}, or null when the memory holds none. Only memory
         * below {@code mappedEnd} (the end of the mapping at {@code bias}) is read.
         */
        byte[] buildIdAt(long bias, long mappedEnd) {
            if (noteSize <= 0 || noteSize > 4096 || noteVaddr < 0 || bias + noteVaddr + noteSize > mappedEnd) {
                return null;
            }
            // Inside the first read-only PT_LOAD of the mapping found at file offset 0.
            byte[] notes = MemorySegment.ofAddress(bias + noteVaddr)
                    .reinterpret(noteSize)
                    .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            return buildId(notes);
        }

        /** {value, size} of the named function in {@code .symtab}, or null. */
        long[] symbol(String name) {
            long shoff = b.getLong(0x28);
            int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
            int shnum = Short.toUnsignedInt(b.getShort(0x3C));
            byte[] wanted = name.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < shnum; i++) {
                int sh = Math.toIntExact(shoff + (long) i * shentsize);
                if (b.getInt(sh + 4) != SHT_SYMTAB) {
                    continue;
                }
                long offset = b.getLong(sh + 0x18);
                long size = b.getLong(sh + 0x20);
                long entsize = b.getLong(sh + 0x38);
                int link = b.getInt(sh + 0x28);
                int strSh = Math.toIntExact(shoff + (long) link * shentsize);
                long strOffset = b.getLong(strSh + 0x18);
                for (long at = offset; entsize > 0 && at + entsize <= offset + size; at += entsize) {
                    int sym = Math.toIntExact(at);
                    if ((b.get(sym + 4) & 0xf) != STT_FUNC) {
                        continue;
                    }
                    if (nameEquals(Math.toIntExact(strOffset + Integer.toUnsignedLong(b.getInt(sym))), wanted)) {
                        return new long[] {b.getLong(sym + 8), b.getLong(sym + 0x10)};
                    }
                }
            }
            return null;
        }

        private boolean nameEquals(int at, byte[] wanted) {
            if (at < 0 || at + wanted.length >= b.limit()) {
                return false;
            }
            for (int i = 0; i < wanted.length; i++) {
                if (b.get(at + i) != wanted[i]) {
                    return false;
                }
            }
            return b.get(at + wanted.length) == 0;
        }

        private static byte[] buildId(byte[] notes) {
            ByteBuffer n = ByteBuffer.wrap(notes).order(ByteOrder.LITTLE_ENDIAN);
            int at = 0;
            while (at + 12 <= notes.length) {
                int nameSize = n.getInt(at);
                int descSize = n.getInt(at + 4);
                int type = n.getInt(at + 8);
                int name = at + 12;
                int desc = name + align4(nameSize);
                if (nameSize < 0 || descSize < 0 || desc + descSize > notes.length) {
                    return null;
                }
                if (type == NT_GNU_BUILD_ID
                        && nameSize == 4
                        && new String(notes, name, 3, StandardCharsets.US_ASCII).equals("GNU")) {
                    return Arrays.copyOfRange(notes, desc, desc + descSize);
                }
                at = desc + align4(descSize);
            }
            return null;
        }

        private static int align4(int n) {
            return (n + 3) & ~3;
        }
    }
}
