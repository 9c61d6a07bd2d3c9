namespace GroupPay.Silo.Tests;

/// <summary>Bounded polling for effects that arrive asynchronously (reminders, failure detection). The bound is a
/// safety net, not an asserted timing.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition())
            {
                return true;
            }
            if (DateTime.UtcNow > until)
            {
                return false;
            }
            await Task.Delay(100);
        }
    }
}
