using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace GroupPay.Grains.Archive;

/// <summary>
/// The archive's PostgreSQL database (<c>ConnectionStrings:Archive</c>), shared by the groups' and the users' archives:
/// one connection pool per silo, and each archive's tables created on first use, once per process (a failed attempt
/// is tried again by the next caller). Not configured: groups and users stay in the grain store for good.
/// </summary>
public sealed class ArchiveDatabase : IAsyncDisposable
{
    public const string ConnectionName = "Archive";

    private readonly NpgsqlDataSource? _dataSource;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, bool> _created = new();

    public ArchiveDatabase(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.GetConnectionString(ConnectionName) is { Length: > 0 } connectionString)
        {
            _dataSource = NpgsqlDataSource.Create(connectionString);
        }
    }

    public bool IsConfigured => _dataSource is not null;

    /// <summary>The database, once the tables of <paramref name="ddl"/> (<c>CREATE … IF NOT EXISTS</c>) exist.</summary>
    public async Task<NpgsqlDataSource> WithTablesAsync(string ddl)
    {
        var dataSource = _dataSource ?? throw new InvalidOperationException($"No archive is configured (ConnectionStrings:{ConnectionName}).");
        if (_created.ContainsKey(ddl))
        {
            return dataSource;
        }
        await _gate.WaitAsync();
        try
        {
            if (!_created.ContainsKey(ddl))
            {
                await using var command = dataSource.CreateCommand(ddl);
                await command.ExecuteNonQueryAsync();
                _created[ddl] = true;
            }
        }
        finally
        {
            _gate.Release();
        }
        return dataSource;
    }

    public async ValueTask DisposeAsync()
    {
        _gate.Dispose();
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
