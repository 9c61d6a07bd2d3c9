using GroupPay.Grains.Ledger;

namespace GroupPay.Grains;

/// <summary>
/// A failed write is a failed operation (docs/design.md §4.5): when <c>WriteStateAsync</c> throws, the activation's state may
/// hold a change that was never stored, so the activation is dropped before it serves anything else (Orleans hands
/// the calls queued behind it to a fresh activation, which reads what is stored) and the caller hears the failure.
/// </summary>
public static class StoredState
{
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(grain);
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            grain.DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Writes a counted state with what the write changes in the figures and the ledger, committed in the same
    /// script (<see cref="CountedGrainStorage"/>); as <see cref="WriteOrReloadAsync{T}(IPersistentState{T}, IGrainBase)"/>
    /// when it fails.</summary>
    public static async Task WriteOrReloadAsync<T>(this IPersistentState<T> state, IGrainBase grain, CountedChanges? changes)
        where T : ICountedState
    {
        ArgumentNullException.ThrowIfNull(state);
        state.State.Uncommitted = changes;
        try
        {
            await state.WriteOrReloadAsync(grain);
        }
        finally
        {
            state.State.Uncommitted = null;
        }
    }
}
