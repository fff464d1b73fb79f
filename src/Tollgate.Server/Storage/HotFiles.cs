using System.Collections.Concurrent;

namespace Tollgate.Server.Storage;

/// <summary>
/// The bytes of small, already verified cached files (tarballs) most asked for, in memory within
/// <paramref name="memoryBudget"/> bytes, so a hot file is answered without opening and reading it again. An entry is
/// keyed by the file and the digest it was verified against: a packument that now names another digest never meets
/// the old bytes. Files larger than <paramref name="largestFile"/> are always sent from disk.
/// </summary>
internal sealed class HotFiles(long memoryBudget, long largestFile)
{
    private readonly ConcurrentDictionary<(string Path, string Digest), Slot> _entries = new();
    private readonly Lock _evictGate = new();
    private long _size;
    private long _clock;

    private sealed class Slot(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public long LastUsed;
    }

    /// <summary>Bytes held in memory now.</summary>
    public long MemoryBytes => Interlocked.Read(ref _size);

    /// <summary>
    /// The verified file's bytes from memory, reading it once when it is small enough and the budget allows;
    /// null when it is to be sent from disk.
    /// </summary>
    public byte[]? Get(string path, string digest)
    {
        if (_entries.TryGetValue((path, digest), out var slot))
        {
            Volatile.Write(ref slot.LastUsed, Interlocked.Increment(ref _clock));
            return slot.Bytes;
        }
        if (memoryBudget <= 0)
        {
            return null;
        }
        byte[] bytes;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > largestFile || length > memoryBudget / 4)
            {
                return null;
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        if (_entries.TryAdd((path, digest), new Slot(bytes) { LastUsed = Interlocked.Increment(ref _clock) }))
        {
            if (Interlocked.Add(ref _size, bytes.Length) > memoryBudget)
            {
                Evict();
            }
        }
        return bytes;
    }

    /// <summary>Forgets every entry of <paramref name="path"/> (the file was deleted or replaced).</summary>
    public void Forget(string path)
    {
        foreach (var key in _entries.Keys)
        {
            if (key.Path == path && _entries.TryRemove(key, out var slot))
            {
                Interlocked.Add(ref _size, -slot.Bytes.Length);
            }
        }
    }

    /// <summary>Drops the least recently used entries until the memory held is three quarters of the budget.</summary>
    private void Evict()
    {
        lock (_evictGate)
        {
            foreach (var (key, slot) in _entries.ToArray().OrderBy(e => Volatile.Read(ref e.Value.LastUsed)))
            {
                if (Interlocked.Read(ref _size) <= memoryBudget * 3 / 4)
                {
                    break;
                }
                if (_entries.TryRemove(new KeyValuePair<(string, string), Slot>(key, slot)))
                {
                    Interlocked.Add(ref _size, -slot.Bytes.Length);
                }
            }
        }
    }
}
