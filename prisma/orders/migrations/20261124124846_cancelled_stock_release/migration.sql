-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "stockReleasedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Order_status_stockReleasedAt_idx" ON "Order"("status", "stockReleasedAt");
