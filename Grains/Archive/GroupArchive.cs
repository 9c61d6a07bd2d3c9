using GroupPay.Grains.Orders;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;

namespace GroupPay.Grains.Archive;

/// <summary>Where settled groups are kept once they leave the grain store (docs/retention.md).</summary>
public interface IGroupArchive
{
    /// <summary>False when no archive is configured: groups then stay in the grain store for good.</summary>
    bool IsEnabled { get; }

    /// <summary>Stores (or replaces) the group's record and its payments; idempotent.</summary>
    Task StoreAsync(string groupId, OrderState state, DateTimeOffset archivedAt);

    /// <summary>The group as archived, or null.</summary>
    Task<OrderState?> FindAsync(string groupId);
}

/// <summary>No archive configured.</summary>
public sealed class NoGroupArchive : IGroupArchive
{
    public static readonly NoGroupArchive Instance = new();

    public bool IsEnabled => false;

    public Task StoreAsync(string groupId, OrderState state, DateTimeOffset archivedAt) =>
        throw new InvalidOperationException("No archive is configured (ConnectionStrings:Archive).");

    public Task<OrderState?> FindAsync(string groupId) => Task.FromResult<OrderState?>(null);
}

/// <summary>
/// The archive in PostgreSQL (<c>ConnectionStrings:Archive</c>): one row per group in <c>grouppay_groups</c> (its
/// figures in columns, its whole state in Orleans' binary format for GroupPay to read back) and one row per payment
/// WeChat took in <c>grouppay_payments</c> (what finance, customer service and reconciliation look up by
/// <c>out_trade_no</c> or <c>transaction_id</c>). Written in one transaction, upserted by key.
/// </summary>
public sealed class PostgresGroupArchive(ArchiveDatabase database, Serializer serializer) : IGroupArchive
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS grouppay_groups (
          group_id text PRIMARY KEY,
          campaign_id text NOT NULL,
          status text NOT NULL,
          leader_openid text,
          created_at timestamptz NOT NULL,
          settled_at timestamptz,
          archived_at timestamptz NOT NULL,
          paid_fen bigint NOT NULL,
          refunded_fen bigint NOT NULL,
          state bytea NOT NULL);
        CREATE INDEX IF NOT EXISTS grouppay_groups_campaign ON grouppay_groups (campaign_id, settled_at);
        CREATE TABLE IF NOT EXISTS grouppay_payments (
          out_trade_no text PRIMARY KEY,
          group_id text NOT NULL REFERENCES grouppay_groups ON DELETE CASCADE,
          transaction_id text NOT NULL,
          slot int NOT NULL,
          payer_openid text NOT NULL,
          member_openid text NOT NULL,
          amount_fen bigint NOT NULL,
          paid_at timestamptz NOT NULL,
          kept boolean NOT NULL,
          out_refund_no text,
          refund_id text,
          refunded_at timestamptz);
        CREATE INDEX IF NOT EXISTS grouppay_payments_transaction ON grouppay_payments (transaction_id);
        CREATE INDEX IF NOT EXISTS grouppay_payments_group ON grouppay_payments (group_id);
        """;

    public bool IsEnabled => true;

    /// <summary>The archive in <paramref name="database"/>, or <see cref="NoGroupArchive"/> when none is configured.</summary>
    public static IGroupArchive From(ArchiveDatabase database, Serializer serializer)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.IsConfigured ? new PostgresGroupArchive(database, serializer) : NoGroupArchive.Instance;
    }

    public async Task StoreAsync(string groupId, OrderState state, DateTimeOffset archivedAt)
    {
        ArgumentNullException.ThrowIfNull(state);
        var dataSource = await database.WithTablesAsync(Schema);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var paid = state.Attempts.Values.Where(a => a.TransactionId is not null).ToList();
        await using (var group = new NpgsqlCommand("""
            INSERT INTO grouppay_groups VALUES (@id, @campaign, @status, @leader, @created, @settled, @archived, @paid, @refunded, @state)
            ON CONFLICT (group_id) DO UPDATE SET status = EXCLUDED.status, settled_at = EXCLUDED.settled_at,
              archived_at = EXCLUDED.archived_at, paid_fen = EXCLUDED.paid_fen, refunded_fen = EXCLUDED.refunded_fen, state = EXCLUDED.state
            """, connection, transaction))
        {
            group.Parameters.AddWithValue("id", groupId);
            group.Parameters.AddWithValue("campaign", state.CampaignId ?? "");
            group.Parameters.AddWithValue("status", state.Status.ToString());
            group.Parameters.AddWithValue("leader", (object?)state.LeaderOpenid ?? DBNull.Value);
            group.Parameters.AddWithValue("created", state.CreatedAt.ToUniversalTime());
            group.Parameters.AddWithValue("settled", (object?)state.SettledAt?.ToUniversalTime() ?? DBNull.Value);
            group.Parameters.AddWithValue("archived", archivedAt.ToUniversalTime());
            group.Parameters.AddWithValue("paid", paid.Sum(a => a.AmountFen));
            group.Parameters.AddWithValue("refunded", paid.Sum(a => (a.Refund == RefundProgress.Succeeded ? a.AmountFen : 0) + a.ExternalRefunds.Sum(r => r.AmountFen)));
            group.Parameters.Add(new NpgsqlParameter("state", NpgsqlDbType.Bytea) { Value = serializer.SerializeToArray(state) });
            await group.ExecuteNonQueryAsync();
        }
        foreach (var attempt in paid)
        {
            await using var payment = new NpgsqlCommand("""
                INSERT INTO grouppay_payments VALUES (@no, @group, @transaction, @slot, @payer, @member, @amount, @paidAt, @kept, @refundNo, @refundId, @refundedAt)
                ON CONFLICT (out_trade_no) DO UPDATE SET kept = EXCLUDED.kept, out_refund_no = EXCLUDED.out_refund_no,
                  refund_id = EXCLUDED.refund_id, refunded_at = EXCLUDED.refunded_at
                """, connection, transaction);
            var refunded = attempt.Refund == RefundProgress.Succeeded;
            var kept = !refunded && attempt.ExternalRefunds.Sum(r => r.AmountFen) < attempt.AmountFen;
            payment.Parameters.AddWithValue("no", attempt.OutTradeNo);
            payment.Parameters.AddWithValue("group", groupId);
            payment.Parameters.AddWithValue("transaction", attempt.TransactionId!);
            payment.Parameters.AddWithValue("slot", attempt.SlotIndex);
            payment.Parameters.AddWithValue("payer", attempt.PayerOpenid);
            payment.Parameters.AddWithValue("member", attempt.MemberOpenid);
            payment.Parameters.AddWithValue("amount", attempt.AmountFen);
            payment.Parameters.AddWithValue("paidAt", (attempt.PaidAt ?? state.CreatedAt).ToUniversalTime());
            payment.Parameters.AddWithValue("kept", kept);
            payment.Parameters.AddWithValue("refundNo", refunded ? attempt.OutRefundNo : DBNull.Value);
            payment.Parameters.AddWithValue("refundId", refunded && attempt.RefundId is { } id ? id : DBNull.Value);
            payment.Parameters.AddWithValue("refundedAt", refunded && attempt.RefundAtWeChat is { } at ? at.ToUniversalTime() : DBNull.Value);
            await payment.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    public async Task<OrderState?> FindAsync(string groupId)
    {
        var dataSource = await database.WithTablesAsync(Schema);
        await using var command = dataSource.CreateCommand("SELECT state FROM grouppay_groups WHERE group_id = @id");
        command.Parameters.AddWithValue("id", groupId);
        return await command.ExecuteScalarAsync() is byte[] bytes ? serializer.Deserialize<OrderState>(bytes) : null;
    }
}
