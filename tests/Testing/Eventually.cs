namespace GroupPay.Testing;

/// <summary>Bounded polling for what happens asynchronously (a notify, a reminder, a flush, failure detection). The bound
/// is a safety net, not an asserted timing: callers assert on the value they get back.</summary>
public static class Eventually
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads until <paramref name="done"/> holds or <paramref name="within"/> has passed; returns the last value
    /// read. With <paramref name="retryFailures"/>, a read that throws before the bound is read again (a cluster settling
    /// after a silo died).</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan within, bool retryFailures = false)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(done);
        var until = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                var value = await read();
                if (done(value) || DateTime.UtcNow > until)
                {
                    return value;
                }
            }
            catch (Exception) when (retryFailures && DateTime.UtcNow <= until)
            {
                // read again
            }
            await Task.Delay(Pause);
        }
    }

    /// <summary>Whether <paramref name="condition"/> came true within <paramref name="within"/>.</summary>
    public static Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan within) => ValueAsync(condition, c => c, within);
}
